"""Practitioners' sign-in through the OpenID Connect provider (issue 19, item 4): the
authentication backend (mozilla-django-oidc's, narrowed), and what a completed sign-in writes
to the session.

mozilla-django-oidc sends the state, the nonce and the PKCE challenge (S256), exchanges the code
with the verifier, and checks the ID token's signature against the provider's keys (JWKS), its
algorithm, its expiry and its nonce. Not its issuer nor its audience: checked here, with the
user info's subject (OpenID Connect Core, 3.1.3.7 and 5.3.2). Who may come in is decided by
``accounts.services.oidc`` (a practitioner of this portal, by RPPS, at an accepted level).

The provider's strong authentication (Pro Santé Connect: CPS card or e-CPS app) stands for the
portal's second factor for that session: the session carries a marker naming the account,
honoured for a practitioner only, and only while the sign-in is enabled (``provider_verified``).
``second_factor_passed`` is the one question « did this session pass the second factor? »: a
django-otp device (code, backup code, passkey) or the provider. The second-factor gate
(``SecondFactorRequiredMiddleware``) and the consent page of practitioners' software ask it;
for the pages that ask django-otp's ``user.is_verified()``, the gate then names the provider
as the session's ``otp_device`` (``PROVIDER_FACTOR``), as django-otp names the device used.
Everything else about the session is the password login's: a new id, the idle and absolute
timeouts, the account's list of sessions.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import login as auth_login
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponseBase
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from accounts.http import remember_browser
from accounts.models import User, UserKind
from accounts.services.oidc import sign_in_with_provider
from accounts.services.sessions import describe_device, forget_stale_sessions
from accounts.sessions import SESSION_DEVICE, SESSION_SEEN, SESSION_STARTED
from dmp_portal.http import client_address

# The session's marker: the account the provider vouched for.
PROVIDER_SESSION_KEY = "_dmp_oidc_verified"


@dataclass(frozen=True)
class ProviderFactor:
    """What ``user.otp_device`` holds in a session whose second factor was the provider's
    strong authentication (django-otp's ``is_verified()`` is « otp_device is not None »). Not
    a stored device: nothing to confirm, remove or list. Not counted as phishing-resistant
    (the pages asking for a passkey ask for one of the portal's own)."""

    name: str = "OpenID Connect"
    phishing_resistant: bool = False


PROVIDER_FACTOR = ProviderFactor()


class PractitionerOIDCBackend(OIDCAuthenticationBackend):
    """Finds the practitioner the provider names; never creates an account."""

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> User | None:
        # Only the callback's call (it passes the nonce and the verifier): a password login
        # asks every backend too, with a username and a password this one never reads.
        if request is None or not settings.DMP_OIDC_ENABLED or "code_verifier" not in kwargs:
            return None
        return super().authenticate(request, **kwargs)

    def get_or_create_user(
        self, access_token: str, id_token: str, payload: dict[str, Any]
    ) -> User | None:
        """``payload``: the ID token's claims, signature, expiry and nonce checked."""
        check_issuer_and_audience(payload)
        user_info = self.get_userinfo(access_token, id_token, payload)
        if not isinstance(user_info, dict) or user_info.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("The user info names another subject than the ID token.")
        claim = settings.DMP_OIDC_RPPS_CLAIM
        return sign_in_with_provider(
            rpps_claim=user_info.get(claim, payload.get(claim)),
            acr=payload.get("acr"),
            client_address=client_address(self.request),
        )

    def get_user(self, user_id: object) -> User | None:
        """The session's account while it may stay signed in this way (the library's would
        keep an account made inactive, or any account, signed in)."""
        user = super().get_user(user_id)
        if (
            settings.DMP_OIDC_ENABLED
            and isinstance(user, User)
            and user.is_active
            and user.kind == UserKind.PRACTITIONER
        ):
            return user
        return None


BACKEND_PATH = f"{PractitionerOIDCBackend.__module__}.{PractitionerOIDCBackend.__qualname__}"


def check_issuer_and_audience(payload: dict[str, Any]) -> None:
    """The ID token was issued by the configured provider, for this portal, with an expiry."""
    audience = payload.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    client_id = settings.OIDC_RP_CLIENT_ID
    if payload.get("iss") != settings.DMP_OIDC_ISSUER:
        raise SuspiciousOperation("The ID token comes from another issuer.")
    if not isinstance(audiences, list) or client_id not in audiences:
        raise SuspiciousOperation("The ID token is meant for another client.")
    if len(audiences) > 1 and payload.get("azp") != client_id:
        raise SuspiciousOperation("The ID token's authorized party is another client.")
    if not isinstance(payload.get("exp"), int):
        raise SuspiciousOperation("The ID token has no expiry.")


def complete_provider_login(request: HttpRequest, response: HttpResponseBase, user: User) -> None:
    """The provider's answer named ``user``, who may come in: the session becomes theirs with
    the provider's authentication as its second factor, under a new id, and is one of the
    account's open sessions (as ``accounts.http.complete_second_factor`` does for a code)."""
    # Django's login: a new session id, the data of another account's session flushed.
    auth_login(request, user, backend=BACKEND_PATH)
    request.session[PROVIDER_SESSION_KEY] = {"user": str(user.pk)}
    # Each factor ends with a fresh id, as the password login's second step does.
    request.session.cycle_key()
    now = time.time()
    request.session[SESSION_STARTED] = now
    request.session[SESSION_SEEN] = now
    request.session[SESSION_DEVICE] = describe_device(
        request.META.get("HTTP_USER_AGENT", ""), client_address(request)
    )
    forget_stale_sessions(user)
    remember_browser(request, response, user)


def provider_verified(request: HttpRequest) -> bool:
    """Whether this session's second factor is the provider's: a practitioner signed in
    through it, while the sign-in is enabled."""
    marker = request.session.get(PROVIDER_SESSION_KEY)
    user = request.user
    return (
        settings.DMP_OIDC_ENABLED
        and isinstance(marker, dict)
        and isinstance(user, User)
        and user.kind == UserKind.PRACTITIONER
        and marker.get("user") == str(user.pk)
    )


def second_factor_passed(request: HttpRequest) -> bool:
    """Whether this session's user is signed in past the second factor: one of their django-otp
    devices (authenticator app, backup code, passkey) in this session, or the provider's strong
    authentication (``provider_verified``)."""
    user = request.user
    if not user.is_authenticated:
        return False
    return user.is_verified() or provider_verified(request)
