"""The login steps' side of HTTP, for the views: what they read from the request (the signed
"known browser" cookie), handed to the services as plain values, and what they write to the
session and the response once a service has said yes. Nothing here decides.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import login as auth_login
from django.http import HttpRequest, HttpResponseBase
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import login as otp_login
from django_otp.models import Device

from accounts.models import User
from accounts.services.authentication import remembered_markers
from accounts.services.sessions import describe_device, forget_stale_sessions
from accounts.sessions import SESSION_DEVICE, SESSION_SEEN, SESSION_STARTED
from dmp_portal.http import client_address

KNOWN_BROWSER_COOKIE = "dmp_known_browser"
KNOWN_BROWSER_SALT = "accounts.known-browser"
# The page asked for before the login (its ``next``), kept in the session across the steps.
NEXT_SESSION_KEY = "_dmp_next"


def remember_next(request: HttpRequest) -> None:
    """Keep the ``next`` of the address for after the login, if it is one of this site's."""
    candidate = request.GET.get("next")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        request.session[NEXT_SESSION_KEY] = candidate


def next_url(request: HttpRequest) -> str:
    """The page asked for before the login, else the page of this kind of account (every way
    in ends here: password and code, passkey, OpenID Connect provider)."""
    landing = settings.LANDING_URL_NAMES.get(getattr(request.user, "kind", ""), "home")
    return request.session.pop(NEXT_SESSION_KEY, None) or reverse(landing)


def known_browser_markers(request: HttpRequest) -> str:
    """The markers of the accounts that completed a login in this browser ("" when none, or
    when the cookie's signature does not hold)."""
    return (
        request.get_signed_cookie(
            KNOWN_BROWSER_COOKIE, default=None, salt=KNOWN_BROWSER_SALT, max_age=None
        )
        or ""
    )


def remember_browser(request: HttpRequest, response: HttpResponseBase, user: User) -> None:
    """After a complete login: this browser is exempt from the account-wide throttle."""
    response.set_signed_cookie(
        KNOWN_BROWSER_COOKIE,
        remembered_markers(known_browser_markers(request), user),
        salt=KNOWN_BROWSER_SALT,
        max_age=settings.KNOWN_BROWSER_DAYS * 86400,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )


def log_in_first_factor(request: HttpRequest, user: User) -> None:
    """The password was right: the session belongs to ``user``, without a verified device.
    Django's login() gives the session a new id (no session fixation)."""
    auth_login(request, user)


def complete_second_factor(request: HttpRequest, device: Device) -> None:
    """Mark the session verified, then give it a new id: each factor ends with a fresh id.

    From here the session is one of the account's open sessions (/accounts/sessions/): it is
    given what the person will recognise it by (browser, network), and the account's sessions
    past a timeout whose cookie never came back leave the store."""
    otp_login(request, device)
    request.session.cycle_key()
    now = time.time()
    request.session.setdefault(SESSION_STARTED, now)
    request.session[SESSION_SEEN] = now
    request.session[SESSION_DEVICE] = describe_device(
        request.META.get("HTTP_USER_AGENT", ""), client_address(request)
    )
    user = request.user
    if isinstance(user, User):
        forget_stale_sessions(user)


def complete_login(
    request: HttpRequest, response: HttpResponseBase, user: User, device: Device
) -> None:
    """The login page's code step was right: the session is verified with ``device`` (and gets
    a new id), and the browser that gets ``response`` is remembered for ``user``.

    The benchmarks' and tests' logged-in clients replay this on a request of their own
    (bench/world.py), so their session is the one this writes, not a copy of it."""
    complete_second_factor(request, device)
    remember_browser(request, response, user)
