"""Documents in the admin: metadata only. Staff never see a title, a description or a file."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from records.models import Category, Document


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "label_fr", "label_en", "position")
    ordering = ("position",)


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    # Only columns stored in clear: listing them decrypts nothing.
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
    search_fields = ("=uid",)

    @admin.display(description=_("added by"))
    def author_kind(self, obj):
        return obj.author.get_kind_display()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # documents are never lost: their author deletes them, in the portal
