"""Documents in the admin: metadata only. Staff never see a title, a description or a file,
nor whose document it is: no list narrows to one patient (``dmp_portal.admin_lookups``).

Categories are shown, never edited here: a category's label is what an author picks when filing
a document, so relabelling one would file documents under another category's profession rules
(psychiatric reports where pharmacists read). Categories and rules change only by a migration,
reviewed like any code.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from dmp_portal.admin_lists import LargeListMixin, NoFacetCounts
from dmp_portal.admin_lookups import OfferedLookupsOnly, choice_lookups
from dmp_portal.admin_read_only import ReadOnlyAdminMixin
from records import file_types
from records.models import Category, Document

MEDIA_TYPES = file_types.MEDIA_TYPE_NAMES


class MediaTypeFilter(admin.SimpleListFilter):
    """The accepted types as a fixed list: Django's list of a column's values would read every
    document (SELECT DISTINCT) on every page."""

    title = _("file type")
    parameter_name = "media_type"

    def lookups(self, request, model_admin):
        return list(MEDIA_TYPES.items())

    def queryset(self, request, queryset):
        if self.value() in MEDIA_TYPES:
            return queryset.filter(media_type=self.value())
        return queryset


@admin.register(Category)
class CategoryAdmin(ReadOnlyAdminMixin, NoFacetCounts, OfferedLookupsOnly, admin.ModelAdmin):
    list_display = ("code", "label_fr", "label_en", "position")
    fields = list_display
    readonly_fields = list_display
    ordering = ("position",)
    actions = None


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdminMixin, LargeListMixin, OfferedLookupsOnly, admin.ModelAdmin):
    # Only columns stored in clear: listing them decrypts nothing. Read-only: documents are never
    # lost; their author deletes them, in the portal, through the door.
    list_display = (
        "reference",
        "category",
        "act_date",
        "status",
        "file_type",
        "size",
        "created_at",
        "author_kind",
    )
    list_filter = ("status", "category", MediaTypeFilter)
    offered_lookups = choice_lookups("status") | {
        MediaTypeFilter.parameter_name,
        "category__id__exact",
        "category__isnull",
    }
    fields = (
        "reference",
        "category",
        "act_date",
        "status",
        "file_type",
        "size",
        "created_at",
        "deleted_at",
        "hidden_from_practitioners",
        "hidden_from_patient_until",
    )
    readonly_fields = fields
    list_select_related = ("category", "author")
    search_fields = ("=uid",)  # the document's own reference, never its patient's
    actions = None

    @admin.display(description=_("reference"), ordering="uid")
    def reference(self, obj):
        return obj.uid

    @admin.display(description=_("file type"), ordering="media_type")
    def file_type(self, obj):
        return MEDIA_TYPES.get(obj.media_type, obj.media_type)

    @admin.display(description=_("added by"))
    def author_kind(self, obj):
        return obj.author.get_kind_display()
