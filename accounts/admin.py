"""Admin of accounts: identifiers and roles, read-only; no secret, hash or health data is shown.

Staff never provision an account here. A practitioner comes only from ``import_practitioners``
and becomes active only through their activation link; a password is set only by its owner. An
account staff could create, activate, re-kind or give a password to is an account they could
sign in with and read health data through (or a second staff account that defeats the four-eyes
rule on the registry). So the pages of users and practitioner profiles only show, even to a
superuser: no add, no change, no delete, no password URL. Groups are not offered either: a
group's permissions would be a way to grant oneself what the admin withholds.

A patient's account shows only what support needs: its kind, whether it is active, whether a
second factor is set, and when it was created (the day their record was, which the registry
already shows). Never their login identifier (half of what signs them in), e-mail address or last
login (when they use the portal): staff learn a patient's id from their own audited identity
read, and must not learn more about that named person here without a trace. So a patient is
named "Patient account" in titles and lists, found by their id only (never by an identifier
search, an oracle for guesses), and no list is sorted by a column that would place them among
known accounts.
"""

import uuid

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

# Issue 19: the applications of practitioners' software, registered by this module's
# autodiscovery (accounts/admin_oauth.py); their tokens are not the admin's business.
from accounts import admin_oauth  # noqa: F401
from accounts.devices import TOTPDevice
from accounts.models import PractitionerProfile, ThrottleLock, User, UserKind
from accounts.services.passkey_enrolment import EnrolmentRefused, issue_enrolment_code
from accounts.services.reinvite import NotAPractitioner, reinvite_practitioner
from accounts.services.throttles import SCOPE_LABELS, ThrottleNotFound, lift_throttle
from dmp_portal.admin_lists import LargeListMixin, NoFacetCounts
from dmp_portal.admin_lookups import OfferedLookupsOnly, choice_lookups
from dmp_portal.admin_read_only import ReadOnlyAdminMixin
from dmp_portal.http import client_address

# django.contrib.auth.admin registers Group when imported (just above): take it back out.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)


class PractitionerProfileInline(ReadOnlyAdminMixin, admin.StackedInline):
    model = PractitionerProfile
    can_delete = False
    extra = 0
    fields = ("rpps", "last_name", "first_name", "profession", "specialty", "city")
    readonly_fields = fields


def account_label(user: User) -> str:
    """How the admin names an account: never by a patient's login identifier."""
    return gettext("Patient account") if user.is_patient else user.username


@admin.register(User)
class UserAdmin(ReadOnlyAdminMixin, LargeListMixin, OfferedLookupsOnly, DjangoUserAdmin):
    # Methods, not fields: a column sorted by a patient's identifier or last login would place
    # them among accounts staff know.
    list_display = (
        "account",
        "kind",
        "is_active",
        "is_staff",
        "second_factor",
        "shown_last_login",
        "date_joined",
    )
    list_display_links = ("account",)
    list_filter = ("kind", "is_active", "is_staff")
    # Never ?documents__...= or ?emergency_accesses__...=: which patients have what.
    offered_lookups = choice_lookups("kind", "is_active", "is_staff")
    # Patients are left out of these searches, and found by their id (get_search_results).
    search_fields = ("username", "practitioner_profile__rpps", "practitioner_profile__last_name")
    ordering = ("kind", "date_joined")
    fieldsets = (
        (None, {"fields": ("username", "id", "kind", "contact_email")}),
        (_("Status"), {"fields": ("is_active", "second_factor", "is_staff", "is_superuser")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    patient_fieldsets = (
        (None, {"fields": ("id", "kind")}),
        (_("Status"), {"fields": ("is_active", "second_factor")}),
        (_("Dates"), {"fields": ("date_joined",)}),
    )
    readonly_fields = (
        "username",
        "id",
        "kind",
        "contact_email",
        "is_active",
        "second_factor",
        "is_staff",
        "is_superuser",
        "last_login",
        "date_joined",
    )
    add_fieldsets = ()
    inlines = (PractitionerProfileInline,)
    actions = None

    def get_queryset(self, request):
        confirmed = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        return super().get_queryset(request).annotate(has_second_factor=Exists(confirmed))

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return super().get_search_results(request, queryset, search_term)
        results, may_have_duplicates = super().get_search_results(
            request, queryset.exclude(kind=UserKind.PATIENT), search_term
        )
        try:
            account_id = uuid.UUID(search_term.strip())
        except ValueError:
            return results, may_have_duplicates
        return results | queryset.filter(pk=account_id), may_have_duplicates

    def get_fieldsets(self, request, obj=None):
        if obj is not None and obj.is_patient:
            return self.patient_fieldsets
        return super().get_fieldsets(request, obj)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(subtitle=account_label(obj), account_label=account_label(obj))
            context["may_reinvite"] = obj.is_practitioner and self.may_reinvite(request)
            context["may_issue_enrolment"] = (
                obj.kind == UserKind.STAFF and obj.pk != request.user.pk
            ) and self.may_reinvite(request)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is not None:
            label = account_label(obj)
            extra_context = {
                **(extra_context or {}),
                "title": gettext("Change history: %s") % label,
                "account_label": label,
            }
        return super().history_view(request, object_id, extra_context)

    @admin.display(description=_("account"))
    def account(self, obj):
        return account_label(obj)

    @admin.display(description=_("second factor set"), boolean=True)
    def second_factor(self, obj):
        return obj.has_second_factor

    @admin.display(description=_("last login"))
    def shown_last_login(self, obj):
        # When a patient uses the portal is theirs; a practitioner's or staff member's is work.
        return "—" if obj.is_patient or obj.last_login is None else obj.last_login

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
        reinvite = self.admin_site.admin_view(self.reinvite_view)
        enrolment = self.admin_site.admin_view(never_cache(self.passkey_enrolment_view))
        return [
            path("<path:object_id>/reinvite/", reinvite, name="accounts_user_reinvite"),
            path(
                "<path:object_id>/passkey-enrolment/",
                enrolment,
                name="accounts_user_passkey_enrolment",
            ),
            *(
                url
                for url in super().get_urls()
                if not (isinstance(url, URLPattern) and str(url.pattern).endswith("password/"))
            ),
        ]

    @staticmethod
    def may_reinvite(request) -> bool:
        """A new invitation resets an account: staff who may change accounts only."""
        return request.user.has_perm("accounts.change_user")

    def reinvite_view(self, request, object_id):
        """One practitioner at a time (there is no bulk action): a confirmation page, then the
        POST that resets the account and e-mails the new invitation."""
        if not self.may_reinvite(request):
            raise PermissionDenied
        user = self.get_object(request, unquote(object_id))
        if user is None or not user.is_practitioner:
            raise Http404
        if request.method == "POST":
            try:
                reinvite_practitioner(
                    user.pk, staff=request.user, client_address=client_address(request)
                )
            except NotAPractitioner:
                raise Http404 from None
            self.message_user(
                request,
                gettext(
                    "A new invitation was sent to %(account)s. Their password, second factors "
                    "and sessions were reset."
                )
                % {"account": account_label(user)},
                messages.SUCCESS,
            )
            return redirect("admin:accounts_user_change", user.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Send a new invitation"),
            "account": user,
            "account_label": account_label(user),
        }
        return TemplateResponse(request, "admin/accounts/user/reinvite.html", context)

    def passkey_enrolment_view(self, request, object_id):
        """Another staff member's first passkey: a confirmation page, then the POST that
        issues the one-time code and shows it once (never stored in clear, not cached)."""
        if not self.may_reinvite(request):
            raise PermissionDenied
        user = self.get_object(request, unquote(object_id))
        if user is None or user.kind != UserKind.STAFF:
            raise Http404
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Issue a passkey enrolment code"),
            "account": user,
            "account_label": account_label(user),
        }
        if request.method == "POST":
            try:
                context["code"] = issue_enrolment_code(
                    user.get_username(),
                    issued_by=request.user,
                    client_address=client_address(request),
                )
            except EnrolmentRefused as refusal:
                context["refusal"] = refusal.message
        return TemplateResponse(request, "admin/accounts/user/passkey_enrolment.html", context)


@admin.register(PractitionerProfile)
class PractitionerProfileAdmin(
    ReadOnlyAdminMixin, LargeListMixin, OfferedLookupsOnly, admin.ModelAdmin
):
    list_display = ("rpps", "last_name", "first_name", "profession", "specialty")
    list_filter = ("profession",)
    offered_lookups = choice_lookups("profession")
    search_fields = ("rpps", "last_name")
    fields = ("user", "rpps", "last_name", "first_name", "profession", "specialty", "city")
    readonly_fields = fields
    actions = None


@admin.register(ThrottleLock)
class ThrottleLockAdmin(NoFacetCounts, ReadOnlyAdminMixin, OfferedLookupsOnly, admin.ModelAdmin):
    """The login throttles that hold now, and a way to lift one (audited). What is shown is
    what the row keeps (accounts/locks.py): never an identifier as typed, nor an address."""

    list_display = ("throttle", "shown_account", "network", "tripped_at", "until")
    list_display_links = ("throttle",)
    fields = ("throttle", "shown_account", "network", "tripped_at", "until")
    readonly_fields = fields
    ordering = ("-tripped_at",)
    actions = None
    # No filter at all: ?account__id= would tell whether someone's account is being guessed at.
    offered_lookups = choice_lookups()
    change_form_template = "admin/accounts/throttlelock/change_form.html"

    def get_queryset(self, request):
        return ThrottleLock.objects.holding().select_related("account")

    @admin.display(description=_("throttle"))
    def throttle(self, obj):
        return SCOPE_LABELS.get(obj.scope, obj.scope)

    @admin.display(description=_("account"))
    def shown_account(self, obj):
        # A patient is "Patient account" (account_label); an identifier of no account, none.
        return account_label(obj.account) if obj.account is not None else "—"

    def get_urls(self):
        lift_view = self.admin_site.admin_view(self.lift_view)
        return [
            path("<path:object_id>/lift/", lift_view, name="accounts_throttlelock_lift"),
            *super().get_urls(),
        ]

    @staticmethod
    def may_lift(request) -> bool:
        return request.user.has_perm("accounts.change_user")

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["may_lift"] = obj is not None and self.may_lift(request)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def lift_view(self, request, object_id):
        if not self.may_lift(request):
            raise PermissionDenied
        lock = self.get_object(request, unquote(object_id))
        if lock is None:
            raise Http404
        if request.method != "POST":
            return redirect("admin:accounts_throttlelock_change", lock.pk)
        try:
            lift_throttle(lock.pk, staff=request.user, client_address=client_address(request))
        except ThrottleNotFound:
            raise Http404 from None
        self.message_user(request, gettext("The throttle was lifted."), messages.SUCCESS)
        return redirect("admin:accounts_throttlelock_changelist")
