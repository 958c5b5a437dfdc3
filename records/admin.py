"""Documents in the admin: metadata only. Staff never see a title, a description or a file,
nor whose document it is: no list narrows to one patient (``dmp_portal.admin_lookups``).

Categories are shown, never edited here: a category's label is what an author picks when filing
a document, so relabelling one would file documents under another category's profession rules
(psychiatric reports where pharmacists read). Categories and rules change only by a migration,
reviewed like any code.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from dmp_portal.admin_lookups import OfferedLookupsOnly, all_values_lookups, choice_lookups
from dmp_portal.admin_read_only import ReadOnlyAdminMixin
from records.models import Category, Document


@admin.register(Category)
class CategoryAdmin(ReadOnlyAdminMixin, OfferedLookupsOnly, admin.ModelAdmin):
    list_display = ("code", "label_fr", "label_en", "position")
    fields = list_display
    readonly_fields = list_display
    ordering = ("position",)
    actions = None


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdminMixin, OfferedLookupsOnly, admin.ModelAdmin):
    # Only columns stored in clear: listing them decrypts nothing. Read-only: documents are never
    # lost; their author deletes them, in the portal, through the door.
    list_display = (
        "uid",
        "category",
        "act_date",
        "status",
        "media_type",
        "size",
        "created_at",
        "author_kind",
    )
    list_filter = ("status", "category", "media_type")
    offered_lookups = (
        choice_lookups("status")
        | all_values_lookups("media_type")
        | {
            "category__id__exact",
            "category__isnull",
        }
    )
    fields = (
        "uid",
        "category",
        "act_date",
        "status",
        "media_type",
        "size",
        "created_at",
        "deleted_at",
        "hidden_from_practitioners",
        "hidden_from_patient_until",
    )
    readonly_fields = fields
    list_select_related = ("category", "author")
    search_fields = ("=uid",)  # the document's own reference, never its patient's

    @admin.display(description=_("added by"))
    def author_kind(self, obj):
        return obj.author.get_kind_display()
