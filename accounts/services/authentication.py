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

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp.models import Device

from accounts.models import BackupCodeDevice, TOTPDevice, User, UserKind
from accounts.services.events import ALLOWED, REFUSED, record_account_event
from accounts.services.sessions import network_of
from accounts.throttling import LockDescription, Throttle
from dmp_portal.crypto.hashing import keyed_hash
from dmp_portal.metrics import LOGIN_FAILURES


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


class _Throttled(LoginRefused):
    """Refused by a throttle, before the guess was checked."""


class _Tripped(_Throttled):
    """This very guess went past a throttle's limit (the later ones, refused while it holds,
    are not recorded: they are not checked, and recording each would let a flood write the
    trail)."""


def _too_many(seconds: int, refusal: type[_Throttled] = _Throttled) -> _Throttled:
    minutes = max(1, (seconds + 59) // 60)
    return refusal(
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
        waits = [throttle.refusal(subject) for throttle, subject in self.counted]
        if max(waits):
            raise _too_many(max(waits))
        # What staff see of a throttle that trips (accounts/locks.py): the account, the network.
        described = {
            throttles.pair: lambda: LockDescription(_account_named(account), network_of(client)),
            throttles.client: lambda: LockDescription(None, network_of(client)),
            throttles.account: lambda: LockDescription(_account_named(account), ""),
        }
        for throttle, subject in self.counted:
            wait = throttle.attempt(subject, described[throttle])
            if wait:
                raise _too_many(wait, _Tripped)

    def succeeded(self) -> None:
        for throttle, subject in self.counted:
            throttle.succeeded(subject)


def _account_named(account: str) -> User | None:
    """The account an identifier (as the throttles count it, case folded) belongs to."""
    return User.objects.filter(username__iexact=account).first()


def _known(markers: str, account: str) -> bool:
    return bool(markers) and account_marker(account) in markers.split(",")


def account_marker(account: str) -> str:
    return keyed_hash("known-browser", account)[:16]


# A browser remembers this many accounts at most, the latest first.
KNOWN_BROWSER_ACCOUNTS = 5


def remembered_markers(markers: str, user: User) -> str:
    """The known-browser markers after a complete login of ``user`` in the browser that sent
    ``markers``: this browser is now exempt from that account's account-wide throttle (the
    view writes them back to the cookie with ``accounts.http.remember_browser``)."""
    kept = [m for m in markers.split(",") if m]
    marker = account_marker(user.get_username().casefold())
    return ",".join(([marker] + [m for m in kept if m != marker])[:KNOWN_BROWSER_ACCOUNTS])


def check_password_step(
    username: str, password: str, *, client_address: str, known_browser_markers: str
) -> User:
    """First factor: the user whose password this is, or LoginRefused. The view then logs them
    in without a verified device (``accounts.http.log_in_first_factor``).

    An unknown identifier, a wrong password and an inactive account get the same answer, and
    are throttled alike, so that the login form does not tell which identifiers exist.
    ``known_browser_markers``: what the browser's signed cookie holds ("" when none).
    """
    account = username.strip().casefold()
    try:
        attempt = _Attempt(
            step_throttles("password"),
            account,
            client_address,
            _known(known_browser_markers, account),
        )
    except _Tripped:
        _record_refused("login-password", username, client_address, "throttled")
        raise
    user = authenticate(None, username=username.strip(), password=password)
    if not isinstance(user, User):  # None: no such active account with this password
        _record_refused("login-password", username, client_address, "wrong-password")
        LOGIN_FAILURES.labels(step="password").inc()
        raise LoginRefused(_("Incorrect identifier or password."))
    attempt.succeeded()
    record_account_event(
        "login-password", ALLOWED, account=user, actor=user, client_address=client_address
    )
    return user


def _record_refused(action: str, account: User | str, client_address: str, reason: str) -> None:
    """A refused step, on the chain of the account it named: a patient's own chain (in no
    one's name: the person is not proven, so their history shows "unidentified person"), else
    the system chain in the account's name (or no one's, for an identifier of no account).

    The look-up of an identifier costs one query whether it exists or not, and the event one
    insert on either chain: the answer and its timing do not tell which (the password hasher
    runs for an unknown identifier too, in Django's ModelBackend)."""
    user = (
        account
        if isinstance(account, User)
        else User.objects.filter(username=account.strip()).first()
    )
    actor = None if user is None or user.kind == UserKind.PATIENT else user
    record_account_event(
        action, REFUSED, account=user, actor=actor, client_address=client_address, reason=reason
    )


def is_known_browser(markers: str, user: User) -> bool:
    """Whether this account completed a login in the browser that sent ``markers`` (the view
    reads them with ``accounts.http.known_browser_markers``)."""
    return _known(markers, user.get_username().casefold())


def verify_second_factor(
    user: User, token: str, *, client_address: str, known_browser: bool
) -> Device:
    """Second factor: the device of ``user`` that accepts ``token`` (a TOTP token or a backup
    code, each accepted once), or LoginRefused. The login's second step, and a service asking a
    fresh second factor before a sensitive act (an emergency declaration): same throttles, same
    message. ``client_address``: the client's; ``known_browser``: see ``is_known_browser``."""
    account = user.get_username().casefold()
    attempt = _Attempt(step_throttles("otp"), account, client_address, known_browser)
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


def verify_login_code(
    user: User, token: str, *, client_address: str, known_browser: bool
) -> Device:
    """The login's second step: ``verify_second_factor``, recorded in the trail (a login
    complete, or refused). A service asking the factor again before a sensitive act calls
    ``verify_second_factor`` itself: that is not a login."""
    try:
        device = verify_second_factor(
            user, token, client_address=client_address, known_browser=known_browser
        )
    except _Tripped:
        _record_refused("login", user, client_address, "throttled")
        raise
    except _Throttled:
        raise
    except LoginRefused:
        _record_refused("login", user, client_address, "wrong-code")
        LOGIN_FAILURES.labels(step="second-factor").inc()
        raise
    record_account_event("login", ALLOWED, account=user, actor=user, client_address=client_address)
    return device


def record_login(user: User, *, client_address: str) -> None:
    """A login completed another way than the code step: the first second factor set up."""
    record_account_event("login", ALLOWED, account=user, actor=user, client_address=client_address)


def record_logout(user: User, *, client_address: str) -> None:
    record_account_event("logout", ALLOWED, account=user, actor=user, client_address=client_address)


def check_setup_token(
    user: User, verify: Callable[[], bool], *, client_address: str, known_browser: bool
) -> bool:
    """Throttle the first token typed while setting up an app, like any second factor."""
    attempt = _Attempt(
        step_throttles("otp"), user.get_username().casefold(), client_address, known_browser
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


def remember_language(user: User, language: str) -> None:
    """The language of the pages the person logged in with, for the e-mails written to them
    later by tasks (which have no request). Only the portal's languages; written when changed."""
    language = language.split("-")[0]
    if language in dict(settings.LANGUAGES) and language != user.language:
        user.language = language
        user.save(update_fields=["language"])
