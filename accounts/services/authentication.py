"""The two steps of a login: password, then second factor, each throttled with a cool-off.

Three throttles guard each step, so that a stranger cannot lock someone else out:
- per account *and* client: the tight limit (5 guesses); it stops the guesser, not the owner,
  who logs in from another address;
- per account, all clients together: a high limit (50) against guessing spread over many
  addresses; a browser where the person already completed a login (a signed "known browser"
  cookie) is exempt from it;
- per client, all accounts: against one address spraying many identifiers.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth import login as auth_login
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp import login as otp_login
from django_otp.models import Device

from accounts.devices import BackupCodeDevice, TOTPDevice
from accounts.http import KNOWN_BROWSER_COOKIE, KNOWN_BROWSER_SALT, known_browser_markers
from accounts.models import User
from accounts.throttling import Throttle
from dmp_portal.crypto.hashing import keyed_hash
from dmp_portal.http import client_address


class LoginRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class StepThrottles:
    pair: Throttle
    account: Throttle
    client: Throttle


def step_throttles(step: str) -> StepThrottles:
    cooloff = int(settings.LOGIN_COOLOFF.total_seconds())
    return StepThrottles(
        pair=Throttle(f"{step}-pair", settings.LOGIN_FAILURES_PER_ACCOUNT, cooloff),
        account=Throttle(
            f"{step}-account", settings.LOGIN_FAILURES_PER_ACCOUNT_ALL_CLIENTS, cooloff
        ),
        client=Throttle(f"{step}-client", settings.LOGIN_FAILURES_PER_CLIENT, cooloff),
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


class _Attempt:
    """One guess, counted by every throttle that applies before it is checked."""

    def __init__(
        self, throttles: StepThrottles, account: str, client: str, known_browser: bool
    ) -> None:
        self.counted = [(throttles.pair, f"{account}|{client}"), (throttles.client, client)]
        if not known_browser:
            self.counted.append((throttles.account, account))
        waits = [throttle.retry_after(subject) for throttle, subject in self.counted]
        if max(waits):
            raise _too_many(max(waits))
        for throttle, subject in self.counted:
            wait = throttle.attempt(subject)
            if wait:
                raise _too_many(wait)

    def succeeded(self) -> None:
        for throttle, subject in self.counted:
            throttle.succeeded(subject)


def _known(markers: str, account: str) -> bool:
    return bool(markers) and account_marker(account) in markers.split(",")


def account_marker(account: str) -> str:
    return keyed_hash("known-browser", account)[:16]


def remember_browser(request: HttpRequest, response: HttpResponse, user: User) -> None:
    """After a complete login: this browser is exempt from the account-wide throttle."""
    markers = [m for m in known_browser_markers(request).split(",") if m]
    marker = account_marker(user.get_username().casefold())
    markers = ([marker] + [m for m in markers if m != marker])[:5]
    response.set_signed_cookie(
        KNOWN_BROWSER_COOKIE,
        ",".join(markers),
        salt=KNOWN_BROWSER_SALT,
        max_age=settings.KNOWN_BROWSER_DAYS * 86400,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )


def check_password_step(request: HttpRequest, username: str, password: str) -> User:
    """First factor. Logs the user in without a verified device, or raises LoginRefused.

    An unknown identifier, a wrong password and an inactive account get the same answer, and
    are throttled alike, so that the login form does not tell which identifiers exist.
    """
    account = username.strip().casefold()
    attempt = _Attempt(
        step_throttles("password"),
        account,
        client_address(request),
        _known(known_browser_markers(request), account),
    )
    user = authenticate(request, username=username.strip(), password=password)
    if user is None:
        raise LoginRefused(_("Incorrect identifier or password."))
    attempt.succeeded()
    # Django's login() gives the session a new id (no session fixation).
    auth_login(request, user)
    return user


def check_second_factor(request: HttpRequest, user: User, token: str) -> Device:
    """Second factor: a TOTP token or a backup code, each accepted once."""
    return verify_second_factor(
        user,
        token,
        address=client_address(request),
        known_browser=is_known_browser(known_browser_markers(request), user),
    )


def is_known_browser(markers: str, user: User) -> bool:
    """Whether this account completed a login in the browser that sent ``markers`` (the view
    reads them with ``accounts.http.known_browser_markers``)."""
    return _known(markers, user.get_username().casefold())


def verify_second_factor(user: User, token: str, *, address: str, known_browser: bool) -> Device:
    """``check_second_factor`` from plain values, for a service asking a fresh second factor
    before a sensitive act (an emergency declaration): same throttles, same message."""
    account = user.get_username().casefold()
    attempt = _Attempt(step_throttles("otp"), account, address, known_browser)
    device = _match_token(user, token)
    if device is None:
        raise LoginRefused(
            _(
                "This code is not valid. Type the 6 digits shown now by your authenticator app, "
                "or one of your backup codes."
            )
        )
    attempt.succeeded()
    return device


def check_setup_token(user: User, verify, *, address: str, known_browser: bool) -> bool:
    """Throttle the first token typed while setting up an app, like any second factor."""
    attempt = _Attempt(
        step_throttles("otp"), user.get_username().casefold(), address, known_browser
    )
    if verify():
        attempt.succeeded()
        return True
    return False


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
