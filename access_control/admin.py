"""Access-control admin: the audit trail, read-only.

Events hold internal ids, roles, actions and outcomes, never health data, so staff may read them;
nobody may add, change or delete one here (and the database refuses it anyway on PostgreSQL).
"""

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access_control.models import AuditEvent, EmergencyAccess, ProfessionRule


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = (
        "occurred_at",
        "chain",
        "sequence",
        "actor_role",
        "action",
        "outcome",
        "mode",
    )
    list_filter = ("action", "outcome", "mode", "actor_role")
    list_select_related = ("chain",)
    ordering = ("-occurred_at",)
    date_hierarchy = "occurred_at"
    # The trail grows without end: no COUNT(*) of the whole table on every page.
    show_full_result_count = False
    fields = (
        "occurred_at",
        "chain",
        "sequence",
        "actor",
        "actor_role",
        "actor_rpps",
        "patient",
        "document_uid",
        "action",
        "outcome",
        "mode",
        "reason",
        "client_address",
        "previous_mac",
        "mac",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(EmergencyAccess)
class EmergencyAccessAdmin(admin.ModelAdmin):
    """The review queue of every emergency access: who, when, for how long. The reason stays
    encrypted with the patient's key (the patient reads it); staff review the pattern."""

    list_display = ("started_at", "ends_at", "practitioner", "patient_id", "reviewed_at")
    list_filter = (("reviewed_at", admin.EmptyFieldListFilter),)
    fields = ("practitioner", "patient_id", "started_at", "ends_at", "reviewed_at", "reviewed_by")
    readonly_fields = fields
    actions = ["mark_reviewed"]
    list_select_related = ("practitioner",)

    @admin.action(description=_("Mark as reviewed"))
    def mark_reviewed(self, request, queryset):
        queryset.filter(reviewed_at__isnull=True).update(
            reviewed_at=timezone.now(), reviewed_by=request.user
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ProfessionRule)
class ProfessionRuleAdmin(admin.ModelAdmin):
    list_display = ("profession", "category", "may_read")
    list_filter = ("profession", "category")
    list_editable = ("may_read",)
