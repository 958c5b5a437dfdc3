from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CryptoConfig(AppConfig):
    """The ground floor's one table: data keys, wrapped by the master keys."""

    name = "dmp_portal.crypto"
    label = "crypto"
    verbose_name = _("Encryption keys")
