from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import resolve, reverse
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminSite


class PortalAdminSite(OTPAdminSite):
    """django-otp's admin site: a session without a verified second factor is refused."""

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
        return super().has_permission(request) and request.user.kind == "staff"

    def login(self, request, extra_context=None):
        # One login for everyone, with its throttling and its second step: the admin's own
        # form would be a second, unthrottled door.
        next_url = request.GET.get("next") or reverse("admin:index")
        return redirect(f"{reverse('accounts:login')}?{urlencode({'next': next_url})}")

    def logout(self, request, extra_context=None):
        # The portal's logout: the session deleted on the server and Clear-Site-Data sent. Found
        # by its URL name, as the login is, so that the ground package imports no app's views.
        return resolve(reverse("accounts:logout")).func(request)
