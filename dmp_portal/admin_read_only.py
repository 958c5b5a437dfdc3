"""Admin pages that staff may look at but never change: added, edited or deleted by nobody
through the admin. The data comes from imports, migrations or the portal's own flows, each of
which passes the door and leaves its audit event; the admin would leave none."""

from __future__ import annotations


class ReadOnlyAdminMixin:
    """Mixed into a ModelAdmin or an inline, before it: shown to staff, changed by nobody."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
