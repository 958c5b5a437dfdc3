"""Second factors: TOTP with its secret sealed at rest, and hashed single-use backup codes.

Stock django-otp keeps TOTP secrets and static tokens in clear; these devices keep the
django-otp ``Device`` contract (so ``OTPMiddleware``, ``OTPAdminSite`` and ``django_otp.login``
work unchanged) but store only a sealed secret and keyed hashes.
"""

from __future__ import annotations

import secrets
import time
from base64 import b32encode
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, TimestampMixin
from django_otp.oath import TOTP

from accounts.users import User
from dmp_portal.crypto.fields import EncryptedBinaryField
from dmp_portal.crypto.hashing import keyed_hash
from dmp_portal.crypto.models import EncryptedModel

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TOTP_SECRET_BYTES = 20


class TOTPDevice(TimestampMixin, EncryptedModel, Device):
    # Sealed under the user's data key, bound to this row (stock django-otp keeps it in clear).
    secret = EncryptedBinaryField()
    step = models.PositiveSmallIntegerField(default=30)
    digits = models.PositiveSmallIntegerField(default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    # Time step of the last accepted token: a token is accepted once, never replayed.
    last_t = models.BigIntegerField(default=-1)

    data_key_path = "user.data_key"

    class Meta(Device.Meta):
        verbose_name = _("authenticator app")
        verbose_name_plural = _("authenticator apps")

    @classmethod
    def create_for(cls, user: User, name: str = "TOTP") -> TOTPDevice:
        """A pending app with a fresh secret, sealed under the user's data key (made if none)."""
        user.ensure_data_key()
        return cls.objects.create(
            user=user, name=name, confirmed=False, secret=secrets.token_bytes(TOTP_SECRET_BYTES)
        )

    @property
    def bin_key(self) -> bytes:
        return self.secret

    @property
    def base32_secret(self) -> str:
        return b32encode(self.bin_key).decode("ascii")

    @property
    def config_url(self) -> str:
        issuer = settings.OTP_TOTP_ISSUER
        label = f"{issuer}:{self.user.get_username()}"
        params = urlencode(
            {
                "secret": self.base32_secret,
                "issuer": issuer,
                "algorithm": "SHA1",
                "digits": self.digits,
                "period": self.step,
            }
        )
        return f"otpauth://totp/{quote(label)}?{params}"

    def verify_token(self, token) -> bool:
        """Callers hold a row lock (``select_for_update``) so two requests cannot both win."""
        token = str(token).strip().replace(" ", "")
        if not (token.isdigit() and len(token) == self.digits):
            return False
        totp = TOTP(self.bin_key, self.step, 0, self.digits, self.drift)
        totp.time = time.time()
        if not totp.verify(int(token), self.tolerance, self.last_t + 1):
            return False
        self.last_t = totp.t()
        self.drift = totp.drift
        self.set_last_used_timestamp(commit=False)
        self.save(update_fields=["last_t", "drift", "last_used_at"])
        return True


class BackupCodeDevice(Device):
    """A set of single-use backup codes, shown once at creation, stored as keyed hashes."""

    class Meta(Device.Meta):
        verbose_name = _("backup codes")
        verbose_name_plural = _("backup codes")

    @staticmethod
    def normalise(code: str) -> str:
        return "".join(ch for ch in str(code).upper() if ch.isalnum())

    @staticmethod
    def hash_code(code: str) -> str:
        return keyed_hash("backup-code", BackupCodeDevice.normalise(code))

    def regenerate(self, count: int) -> list[str]:
        """Replace every code; returns the new codes in clear, the only time they exist."""
        self.codes.all().delete()
        codes = []
        for _index in range(count):
            raw = "".join(secrets.choice(CROCKFORD) for _ in range(10))
            codes.append(f"{raw[:5]}-{raw[5:]}")
        BackupCode.objects.bulk_create(
            BackupCode(device=self, code_hash=self.hash_code(code)) for code in codes
        )
        return codes

    def remaining(self) -> int:
        return self.codes.filter(used_at__isnull=True).count()

    def verify_token(self, token) -> bool:
        normalised = self.normalise(token)
        if len(normalised) != 10:
            return False
        code = (
            self.codes.select_for_update()
            .filter(code_hash=self.hash_code(normalised), used_at__isnull=True)
            .first()
        )
        if code is None:
            return False
        code.used_at = timezone.now()
        code.save(update_fields=["used_at"])
        return True


class BackupCode(models.Model):
    device = models.ForeignKey(BackupCodeDevice, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["device", "code_hash"], name="backup_code_unique")
        ]

    def __str__(self) -> str:
        return f"backup code #{self.pk}"  # never the code, not even its hash
