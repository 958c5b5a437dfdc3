from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class PortalConfig(AppConfig):
    """Cross-cutting pieces: health check, logging filter."""

    name = "dmp_portal"
    verbose_name = "DMP portal"


class OTPAdminConfig(AdminConfig):
    # The admin only ever opens to staff who have passed their second factor.
    default_site = "dmp_portal.admin_site.PortalAdminSite"
