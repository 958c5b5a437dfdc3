"""Admin of accounts: identifiers and roles only; no secret, hash or health data is shown."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import PractitionerProfile, User


class PractitionerProfileInline(admin.StackedInline):
    model = PractitionerProfile
    can_delete = False
    extra = 0


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "kind", "is_active", "is_staff", "last_login")
    list_filter = ("kind", "is_active", "is_staff")
    search_fields = ("username", "practitioner_profile__rpps", "practitioner_profile__last_name")
    ordering = ("username",)
    readonly_fields = ("id", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("username", "id", "kind", "email")}),
        (_("Status"), {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "kind", "email", "password1", "password2"),
            },
        ),
    )
    inlines = (PractitionerProfileInline,)
    filter_horizontal = ("groups",)

    def get_inlines(self, request, obj):
        if obj is None or not obj.is_practitioner:
            return ()
        return super().get_inlines(request, obj)


@admin.register(PractitionerProfile)
class PractitionerProfileAdmin(admin.ModelAdmin):
    list_display = ("rpps", "last_name", "first_name", "profession", "specialty")
    list_filter = ("profession",)
    search_fields = ("rpps", "last_name")
    raw_id_fields = ("user",)
