"""The two steps of a login: password, then second factor, each throttled with a cool-off."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth import login as auth_login
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp import login as otp_login
from django_otp.models import Device

from accounts.devices import BackupCodeDevice, TOTPDevice
from accounts.models import User
from accounts.throttling import Throttle
from dmp_portal.http import client_address


class LoginRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _cooloff() -> int:
    return int(settings.LOGIN_COOLOFF.total_seconds())


def password_throttles() -> tuple[Throttle, Throttle]:
    return (
        Throttle("password-account", settings.LOGIN_FAILURES_PER_ACCOUNT, _cooloff()),
        Throttle("password-client", settings.LOGIN_FAILURES_PER_CLIENT, _cooloff()),
    )


def otp_throttles() -> tuple[Throttle, Throttle]:
    return (
        Throttle("otp-account", settings.LOGIN_FAILURES_PER_ACCOUNT, _cooloff()),
        Throttle("otp-client", settings.LOGIN_FAILURES_PER_CLIENT, _cooloff()),
    )


def _too_many(seconds: int) -> LoginRefused:
    minutes = max(1, (seconds + 59) // 60)
    return LoginRefused(
        ngettext(
            "Too many attempts. For your security, try again in %(minutes)d minute.",
            "Too many attempts. For your security, try again in %(minutes)d minutes.",
            minutes,
        )
        % {"minutes": minutes}
    )


def ensure_not_throttled(throttles: tuple[Throttle, Throttle], subjects: tuple[str, str]) -> None:
    wait = max(
        throttle.retry_after(subject) for throttle, subject in zip(throttles, subjects, strict=True)
    )
    if wait:
        raise _too_many(wait)


def check_password_step(request: HttpRequest, username: str, password: str) -> User:
    """First factor. Logs the user in without a verified device, or raises LoginRefused.

    An unknown identifier, a wrong password and an inactive account get the same answer, and
    are throttled alike, so that the login form does not tell which identifiers exist.
    """
    account_throttle, client_throttle = password_throttles()
    subjects = (username.strip().casefold(), client_address(request))
    ensure_not_throttled((account_throttle, client_throttle), subjects)
    user = authenticate(request, username=username.strip(), password=password)
    if user is None:
        account_throttle.record_failure(subjects[0])
        client_throttle.record_failure(subjects[1])
        raise LoginRefused(_("Incorrect identifier or password."))
    account_throttle.reset(subjects[0])
    # Django's login() gives the session a new id (no session fixation).
    auth_login(request, user)
    return user


def check_second_factor(request: HttpRequest, user: User, token: str) -> Device:
    """Second factor: a TOTP token or a backup code, each accepted once."""
    account_throttle, client_throttle = otp_throttles()
    subjects = (str(user.public_id), client_address(request))
    ensure_not_throttled((account_throttle, client_throttle), subjects)
    device = _match_token(user, token)
    if device is None:
        account_throttle.record_failure(subjects[0])
        client_throttle.record_failure(subjects[1])
        raise LoginRefused(
            _(
                "This code is not valid. Type the 6 digits shown now by your authenticator app, "
                "or one of your backup codes."
            )
        )
    account_throttle.reset(subjects[0])
    return device


def _match_token(user: User, token: str) -> Device | None:
    with transaction.atomic():
        # Row locks: two requests carrying the same token cannot both be accepted.
        for model in (TOTPDevice, BackupCodeDevice):
            for device in model.objects.select_for_update().filter(user=user, confirmed=True):
                if device.verify_token(token):
                    return device
    return None


def complete_second_factor(request: HttpRequest, device: Device) -> None:
    """Mark the session verified, then give it a new id: each factor ends with a fresh id."""
    otp_login(request, device)
    request.session.cycle_key()
