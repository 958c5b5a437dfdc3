"""``manage.py create_hsm_key LABEL``: generate a master key inside the PKCS#11 token."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from dmp_portal.crypto.hsm import generate_master_key


class Command(BaseCommand):
    help = (
        "Generate an AES-256 master key inside the PKCS#11 token of DMP_PKCS11_MODULE and "
        "DMP_PKCS11_TOKEN_LABEL: sensitive, never extractable, allowed only to wrap and unwrap "
        "data keys. Then put LABEL first in DMP_PKCS11_KEY_LABELS, restart, run rotate_keys."
    )

    def add_arguments(self, parser):
        parser.add_argument("label", help="The key's label (at most 64 ASCII characters).")

    def handle(self, *args, label, **options):
        module, token = settings.DMP_PKCS11_MODULE, settings.DMP_PKCS11_TOKEN_LABEL
        if not module or not token or not settings.DMP_PKCS11_PIN:
            raise CommandError(
                "Set DMP_PKCS11_MODULE, DMP_PKCS11_TOKEN_LABEL and DMP_PKCS11_PIN first."
            )
        try:
            key_id = generate_master_key(module, token, settings.DMP_PKCS11_PIN, label)
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"created label={label} id={key_id.hex()}")
