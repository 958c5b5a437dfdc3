"""Setting up a second factor: an authenticator app, then backup codes shown once.

Each visit of the setup page gets a fresh secret, in a pending device that only the session
which asked for it can confirm (the view keeps the device's id in that session). A secret
shown to someone holding the password alone is therefore worth nothing once the owner sets up
their own app: confirming deletes every other pending device.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.devices import BackupCodeDevice, TOTPDevice
from accounts.models import User
from accounts.services.authentication import LoginRefused, check_setup_token
from accounts.services.events import ALLOWED, record_account_event
from audit.models import Action


@transaction.atomic
def start_totp_setup(user: User, previous_device_id: int | None) -> TOTPDevice:
    """A new pending device with a new secret, replacing the one this session showed before.

    Pending devices of sessions that cannot be alive any more (older than the absolute session
    lifetime) go too, so that unconfirmed secrets do not pile up.
    """
    stale_before = timezone.now() - settings.SESSION_ABSOLUTE_TIMEOUT - timedelta(minutes=1)
    TOTPDevice.objects.filter(user=user, confirmed=False).filter(
        Q(pk=previous_device_id) | Q(created_at__lt=stale_before)
    ).delete()
    return TOTPDevice.create_for(user)


def pending_totp_device(user: User, device_id: int | None) -> TOTPDevice | None:
    """The pending device this session was shown, if it is still pending."""
    if device_id is None:
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=False, pk=device_id).first()


@dataclass(frozen=True)
class ConfirmedSetup:
    device: TOTPDevice  # the view completes the second factor of the session with it
    codes: list[str]  # the new backup codes, in clear, shown once


@transaction.atomic
def confirm_totp_device(
    user: User, device_id: int | None, token: str, *, client_address: str, known_browser: bool
) -> ConfirmedSetup:
    """Confirm this session's pending app with a first token (``device_id``: the device this
    session was shown). A token of a secret shown to another session is refused like a wrong
    one. ``client_address`` and ``known_browser`` feed the throttle of second factors."""
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user=user, confirmed=False, pk=device_id)
        .first()
        if device_id is not None
        else None
    )
    # The throttle counts the try even when this session has no pending device.
    verified = check_setup_token(
        user,
        lambda: device is not None and device.verify_token(token),
        client_address=client_address,
        known_browser=known_browser,
    )
    if not verified or device is None:  # verified: the pending device exists
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
    # A factor added (with its new backup codes), in the name of the account: it holds the
    # password and the first code of the app it sets up.
    record_account_event(
        Action.ADD_TOTP, ALLOWED, account=user, actor=user, client_address=client_address
    )
    return ConfirmedSetup(device, codes)
