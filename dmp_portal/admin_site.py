from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminSite


class PortalAdminSite(OTPAdminSite):
    """django-otp's admin site: a session without a verified second factor is refused."""

    site_header = _("DMP administration")
    site_title = _("DMP administration")
    index_title = _("Service administration")

    def has_permission(self, request):
        return super().has_permission(request) and request.user.kind == "staff"
