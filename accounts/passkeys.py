"""Passkeys and security keys (WebAuthn) as a django-otp second factor.

A row keeps what verifying a signature needs and nothing secret: the credential's identifier,
its public key (COSE) and the authenticator's signature counter. The private key never leaves
the authenticator. The row keeps django-otp's ``Device`` contract, so that ``OTPMiddleware``
and ``django_otp.login`` mark a session verified with it like with an authenticator app; it
accepts no typed code (``verify_token``), only a signed assertion checked by
``accounts.services.passkeys``.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, TimestampMixin

# The longest credential identifier WebAuthn allows (1,023 bytes), in base64url.
CREDENTIAL_ID_MAX_LENGTH = 1364


class PasskeyDevice(TimestampMixin, Device):
    # The admin asks the device of the session for this (dmp_portal.admin_site): a passkey
    # signs the page's origin, so a look-alike site cannot relay it as it can relay a code.
    phishing_resistant = True

    credential_id = models.CharField(max_length=CREDENTIAL_ID_MAX_LENGTH, unique=True)
    # Public by nature: stored as received, not sealed.
    public_key = models.BinaryField()
    # The authenticator's signature counter at the last accepted assertion (0: it keeps none).
    sign_count = models.PositiveBigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)

    class Meta(Device.Meta):
        verbose_name = _("passkey")
        verbose_name_plural = _("passkeys")

    def verify_token(self, token) -> bool:
        """A passkey answers a challenge in the browser; it has no code to type."""
        return False


class StaffPasskeyEnrolment(models.Model):
    """A one-time code that lets a staff member without any passkey register their first one.

    A password and an authenticator code can be relayed through a look-alike site; if they were
    enough to register the first key, whoever relayed them could register their own and open the
    administration. The code comes from outside that login: an operator's command, or another
    staff member. Only its keyed hash is stored; single use, it expires, and a newer one
    stops the older ones (``accounts.services.passkey_enrolment``)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="passkey_enrolments"
    )
    code_hash = models.CharField(max_length=64, unique=True)
    # The staff member who issued it; empty when an operator ran the command.
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("staff passkey enrolment code")
        verbose_name_plural = _("staff passkey enrolment codes")

    def __str__(self) -> str:
        return f"passkey enrolment code #{self.pk}"  # never the code, not even its hash

    def is_usable(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.used_at is None and now < self.expires_at
