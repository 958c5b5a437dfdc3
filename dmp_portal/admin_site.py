from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import resolve, reverse
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminSite


def _session_used_passkey(request) -> bool:
    """Whether the session's second factor was a passkey (accounts.passkeys.PasskeyDevice):
    the one factor that a look-alike site cannot relay, since the browser signs the origin.
    Asked by attribute, as the ground knows no app."""
    return getattr(getattr(request.user, "otp_device", None), "phishing_resistant", False)


class PortalAdminSite(OTPAdminSite):
    """django-otp's admin site: a session without a verified second factor is refused, and
    staff must have confirmed theirs with a passkey."""

    site_header = _("DMP administration")
    site_title = _("DMP administration")
    index_title = _("Service administration")

    def __init__(self, name="admin"):
        super().__init__(name)
        # No list offers "delete selected": nothing the admin shows may be deleted in bulk (the
        # registry, accounts, letters, the audit trail are records of what happened), and each
        # ModelAdmin also refuses deletion one by one (has_delete_permission).
        self.disable_action("delete_selected")

    def has_permission(self, request):
        return (
            super().has_permission(request)
            and request.user.kind == "staff"
            and _session_used_passkey(request)
        )

    def login(self, request, extra_context=None):
        # One login for everyone, with its throttling and its second step: the admin's own
        # form would be a second, unthrottled door.
        next_url = request.GET.get("next") or reverse("admin:index")
        query = urlencode({"next": next_url})
        user = request.user
        if user.is_authenticated and user.is_verified() and user.kind == "staff":
            # Logged in with a code, not a passkey: the security page has them add one, or
            # confirm the session with one, and then sends them back.
            return redirect(f"{reverse('accounts:security')}?{query}")
        return redirect(f"{reverse('accounts:login')}?{query}")

    def logout(self, request, extra_context=None):
        # The portal's logout: the session deleted on the server and Clear-Site-Data sent. Found
        # by its URL name, as the login is, so that the ground package imports no app's views.
        return resolve(reverse("accounts:logout")).func(request)
