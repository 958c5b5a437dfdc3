"""Session lifetime and the second-factor gate, applied to every request."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.shortcuts import redirect
from django.urls import reverse

from accounts.oidc import PROVIDER_FACTOR, second_factor_passed

# The session's start and last activity are also the columns of the account's sessions page,
# which the store copies from the data (accounts.sessions): named there, used here.
from accounts.sessions import SESSION_SEEN, SESSION_STARTED

__all__ = ["SESSION_EXPIRED_FLAG", "SESSION_SEEN", "SESSION_STARTED"]

SESSION_EXPIRED_FLAG = "_dmp_expired"
# Writing the session on every request costs a database write; a minute's precision is enough
# for a 15-minute idle timeout, and for the "last activity" of the sessions page (the store
# copies it into its column on that same write: no query of its own).
SEEN_PRECISION_SECONDS = 60


class SessionTimeoutMiddleware:
    """Ends an authenticated session after 15 idle minutes or 12 hours, on the server."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        if SESSION_KEY in session:
            now = time.time()
            started = session.setdefault(SESSION_STARTED, now)
            seen = session.get(SESSION_SEEN, now)
            idle = settings.SESSION_IDLE_TIMEOUT.total_seconds()
            absolute = settings.SESSION_ABSOLUTE_TIMEOUT.total_seconds()
            if now - seen > idle or now - started > absolute:
                session.flush()
                session[SESSION_EXPIRED_FLAG] = True
            elif now - seen >= SEEN_PRECISION_SECONDS or SESSION_SEEN not in session:
                session[SESSION_SEEN] = now
        return self.get_response(request)


class SecondFactorRequiredMiddleware:
    """A user who passed only the password reaches nothing but the second-factor pages."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and not second_factor_passed(request):
            path = request.path_info
            if not any(path.startswith(prefix) for prefix in self._open_prefixes()):
                return redirect(f"{reverse('accounts:login')}")
        elif user.is_authenticated and not user.is_verified():
            # Issue 19: passed through the OpenID Connect provider (accounts/oidc.py), whose
            # strong authentication (CPS card, e-CPS) is this session's second factor: named as
            # its django-otp device, so that the pages asking is_verified() agree.
            user.otp_device = PROVIDER_FACTOR
        return self.get_response(request)

    @staticmethod
    def _open_prefixes() -> tuple[str, ...]:
        return (
            reverse("accounts:login"),
            reverse("accounts:logout"),
            reverse("accounts:extend-session"),
            reverse("accounts:2fa-setup"),
            "/accounts/activate/",
            "/healthz",
            # The public pages: the help for a lost phone is read at this very step.
            reverse("public:help"),
            reverse("public:legal"),
            reverse("public:privacy"),
            reverse("public:accessibility"),
            "/i18n/",
            settings.STATIC_URL,
            # The FHIR API (issue 19) reads no session: its caller is named by a bearer token,
            # issued after both factors; a half-open session there is no one.
            "/fhir/",
        )
