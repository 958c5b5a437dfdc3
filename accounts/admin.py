"""Admin of accounts: identifiers and roles, read-only; no secret, hash or health data is shown.

Staff never provision an account here. A practitioner comes only from ``import_practitioners``
and becomes active only through their activation link; a password is set only by its owner. An
account staff could create, activate, re-kind or give a password to is an account they could
sign in with and read health data through (or a second staff account that defeats the four-eyes
rule on the registry). So the pages of users and practitioner profiles only show, even to a
superuser: no add, no change, no delete, no password URL. Groups are not offered either: a
group's permissions would be a way to grant oneself what the admin withholds.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.urls import URLPattern
from django.utils.translation import gettext_lazy as _

from accounts.models import PractitionerProfile, User
from dmp_portal.admin_lookups import OfferedLookupsOnly, choice_lookups

# django.contrib.auth.admin registers Group when imported (just above): take it back out.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)


class ReadOnlyAdminMixin:
    """Shown to staff, changed by nobody through the admin."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PractitionerProfileInline(ReadOnlyAdminMixin, admin.StackedInline):
    model = PractitionerProfile
    can_delete = False
    extra = 0
    fields = ("rpps", "last_name", "first_name", "profession", "specialty")
    readonly_fields = fields


@admin.register(User)
class UserAdmin(ReadOnlyAdminMixin, OfferedLookupsOnly, DjangoUserAdmin):
    list_display = ("username", "kind", "is_active", "is_staff", "last_login")
    list_filter = ("kind", "is_active", "is_staff")
    # Never ?documents__...= or ?emergency_accesses__...=: which patients have what.
    offered_lookups = choice_lookups("kind", "is_active", "is_staff")
    search_fields = ("username", "practitioner_profile__rpps", "practitioner_profile__last_name")
    ordering = ("username",)
    fieldsets = (
        (None, {"fields": ("username", "id", "kind", "contact_email")}),
        (_("Status"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = (
        "username",
        "id",
        "kind",
        "contact_email",
        "is_active",
        "is_staff",
        "is_superuser",
        "last_login",
        "date_joined",
    )
    add_fieldsets = ()
    inlines = (PractitionerProfileInline,)
    actions = None

    @admin.display(description=_("e-mail address"))
    def contact_email(self, obj):
        # A patient's address is personal data the registry admin does not need; a
        # practitioner's comes from the public directory, a staff member's is internal.
        return "—" if obj.is_patient else obj.email

    def get_inlines(self, request, obj):
        if obj is None or not obj.is_practitioner:
            return ()
        return super().get_inlines(request, obj)

    def get_urls(self):
        # Django's UserAdmin adds "<id>/password/": without it, the address falls through to
        # the change page's redirect and no password form exists anywhere in the admin.
        return [
            url
            for url in super().get_urls()
            if not (isinstance(url, URLPattern) and str(url.pattern).endswith("password/"))
        ]


@admin.register(PractitionerProfile)
class PractitionerProfileAdmin(ReadOnlyAdminMixin, OfferedLookupsOnly, admin.ModelAdmin):
    list_display = ("rpps", "last_name", "first_name", "profession", "specialty")
    list_filter = ("profession",)
    offered_lookups = choice_lookups("profession")
    search_fields = ("rpps", "last_name")
    fields = ("user", "rpps", "last_name", "first_name", "profession", "specialty")
    readonly_fields = fields
    actions = None
