"""Access-control admin: the audit trail, read-only.

Events hold internal ids, roles, actions and outcomes, never health data, so staff may read them;
nobody may add, change or delete one here (and the database refuses it anyway on PostgreSQL).
"""

from django.contrib import admin

from access_control.models import AuditEvent


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
