from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublicPagesConfig(AppConfig):
    """The pages every visitor may read: legal notice, privacy, accessibility, help."""

    name = "public_pages"
    verbose_name = _("Public pages")
