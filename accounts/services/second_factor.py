"""Setting up a second factor: an authenticator app, then backup codes shown once."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from accounts.devices import BackupCodeDevice, TOTPDevice
from accounts.models import User
from accounts.services.authentication import (
    LoginRefused,
    check_setup_token,
    complete_second_factor,
)


def pending_totp_device(user: User) -> TOTPDevice:
    """The unconfirmed device whose secret the setup page shows; the same one until confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    return device or TOTPDevice.create_for(user)


@transaction.atomic
def confirm_totp_device(request: HttpRequest, user: User, token: str) -> list[str]:
    """Confirm the app with a first token; returns the new backup codes, in clear, once."""
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user=user, confirmed=False)
        .order_by("-pk")
        .first()
    )
    if device is None or not check_setup_token(request, user, lambda: device.verify_token(token)):
        raise LoginRefused(
            _("This code is not valid. Type the 6 digits your app shows now, without spaces.")
        )
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    backup_device, _created = BackupCodeDevice.objects.get_or_create(
        user=user, defaults={"name": "backup", "confirmed": True}
    )
    codes = backup_device.regenerate(settings.BACKUP_CODE_COUNT)
    complete_second_factor(request, device)
    return codes
