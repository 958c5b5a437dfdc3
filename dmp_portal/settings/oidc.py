"""Practitioners' sign-in through an OpenID Connect provider (issue 19, item 4; README,
« Connexion des professionnels par OpenID Connect »): the portal as relying party, with
mozilla-django-oidc.

Off by default (``DMP_OIDC_ENABLED``). When on, every value the sign-in needs is required and
checked now, not at the first practitioner's login: the provider's issuer and endpoints (copied
from its discovery document, ``<issuer>/.well-known/openid-configuration``: the portal never
fetches it, so that a provider down at start-up cannot stop the portal and no answer of the
network decides where the secrets go), the client id and secret (a secret: ``_FILE`` works),
the accepted ``acr`` values (an allow-list) and the claim naming the practitioner's RPPS.
PKCE (S256), the nonce and the state are always on: no setting turns them off.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from dmp_portal.settings.env import Env

# The backend that finds the practitioner (accounts/oidc.py), added to Django's when enabled.
BACKEND = "accounts.oidc.PractitionerOIDCBackend"
_REQUIRED = (
    "DMP_OIDC_ISSUER",
    "DMP_OIDC_AUTHORIZATION_ENDPOINT",
    "DMP_OIDC_TOKEN_ENDPOINT",
    "DMP_OIDC_USERINFO_ENDPOINT",
    "DMP_OIDC_JWKS_ENDPOINT",
    "DMP_OIDC_CLIENT_ID",
    "DMP_OIDC_CLIENT_SECRET",
    "DMP_OIDC_ACR_VALUES",
)


def _https(name: str, url: str) -> str:
    """An https address; plain http only on the loopback (the tests' provider, a developer's)."""
    parts = urlsplit(url)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if not parts.netloc or parts.scheme not in (("https", "http") if loopback else ("https",)):
        raise ImproperlyConfigured(f"{name} must be an https address (https://provider.example/…).")
    return url


# Disabled: nothing is read but DMP_OIDC_ENABLED; the names exist all the same, inert (the
# library's views and backend are never reached: /oidc/ answers 404, the backend is not listed).
DISABLED: dict[str, Any] = {
    "DMP_OIDC_ENABLED": False,
    "DMP_OIDC_ISSUER": "",
    "DMP_OIDC_ACR_VALUES": (),
    "DMP_OIDC_RPPS_CLAIM": "SubjectNameID",
    "DMP_OIDC_RPPS_PREFIX": "8",
    "DMP_OIDC_PROVIDER_NAME": "",
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "",
    "OIDC_OP_TOKEN_ENDPOINT": "",
    "OIDC_OP_USER_ENDPOINT": "",
    "OIDC_OP_JWKS_ENDPOINT": "",
    "OIDC_RP_CLIENT_ID": "",
    "OIDC_RP_CLIENT_SECRET": "",
    "OIDC_RP_SIGN_ALGO": "RS256",
    "OIDC_RP_SCOPES": "openid",
    "OIDC_AUTH_REQUEST_EXTRA_PARAMS": {},
    "OIDC_TIMEOUT": 10,
}
# Fixed whatever the environment: PKCE (S256), the nonce, no account ever created.
FIXED: dict[str, Any] = {
    "OIDC_USE_NONCE": True,
    "OIDC_USE_PKCE": True,
    "OIDC_PKCE_CODE_CHALLENGE_METHOD": "S256",
    # The client authenticates to the token endpoint with HTTP Basic (client_secret_basic,
    # which every provider supports: RFC 6749, 2.3.1).
    "OIDC_TOKEN_USE_BASIC_AUTH": True,
    "OIDC_CREATE_USER": False,
    "OIDC_VERIFY_SSL": True,
    "OIDC_STORE_ACCESS_TOKEN": False,
    "OIDC_STORE_ID_TOKEN": False,
    "OIDC_AUTHENTICATION_CALLBACK_URL": "oidc:callback",
}


def read(env: Env) -> dict[str, Any]:
    """The settings of the sign-in, mozilla-django-oidc's names (``OIDC_*``) and ours
    (``DMP_OIDC_*``)."""
    if not env.bool("DMP_OIDC_ENABLED", False):
        return {**DISABLED, **FIXED}
    values: dict[str, Any] = {"DMP_OIDC_ENABLED": True, **FIXED}
    missing = [name for name in _REQUIRED if not env.str(name)]
    if missing:
        raise ImproperlyConfigured(
            "DMP_OIDC_ENABLED=true needs " + ", ".join(missing) + " (README, « Connexion des "
            "professionnels par OpenID Connect »; the client secret may be given as "
            "DMP_OIDC_CLIENT_SECRET_FILE)."
        )
    endpoints = {
        name: _https(name, env.str(name, ""))
        for name in (
            "DMP_OIDC_AUTHORIZATION_ENDPOINT",
            "DMP_OIDC_TOKEN_ENDPOINT",
            "DMP_OIDC_USERINFO_ENDPOINT",
            "DMP_OIDC_JWKS_ENDPOINT",
        )
    }
    acr_values = env.str("DMP_OIDC_ACR_VALUES", "").split()
    scopes = env.str("DMP_OIDC_SCOPES", "openid scope_all")
    if "openid" not in scopes.split():
        raise ImproperlyConfigured("DMP_OIDC_SCOPES must include openid (e.g. openid scope_all).")
    timeout = env.int("DMP_OIDC_TIMEOUT_SECONDS", 10)
    if timeout <= 0:
        raise ImproperlyConfigured("DMP_OIDC_TIMEOUT_SECONDS must be a number of seconds above 0.")
    values.update(
        {
            # Ours: what the backend checks, what the login page shows.
            "DMP_OIDC_ISSUER": _https("DMP_OIDC_ISSUER", env.str("DMP_OIDC_ISSUER", "")),
            "DMP_OIDC_ACR_VALUES": tuple(acr_values),
            # Pro Santé Connect's SubjectNameID: "8" then the RPPS number (11 digits).
            "DMP_OIDC_RPPS_CLAIM": env.str("DMP_OIDC_RPPS_CLAIM", "SubjectNameID"),
            "DMP_OIDC_RPPS_PREFIX": env.str("DMP_OIDC_RPPS_PREFIX", "8"),
            "DMP_OIDC_PROVIDER_NAME": env.line("DMP_OIDC_PROVIDER_NAME", "Pro Santé Connect"),
            # mozilla-django-oidc's.
            "OIDC_OP_AUTHORIZATION_ENDPOINT": endpoints["DMP_OIDC_AUTHORIZATION_ENDPOINT"],
            "OIDC_OP_TOKEN_ENDPOINT": endpoints["DMP_OIDC_TOKEN_ENDPOINT"],
            "OIDC_OP_USER_ENDPOINT": endpoints["DMP_OIDC_USERINFO_ENDPOINT"],
            "OIDC_OP_JWKS_ENDPOINT": endpoints["DMP_OIDC_JWKS_ENDPOINT"],
            "OIDC_RP_CLIENT_ID": env.str("DMP_OIDC_CLIENT_ID"),
            "OIDC_RP_CLIENT_SECRET": env.str("DMP_OIDC_CLIENT_SECRET"),
            "OIDC_RP_SIGN_ALGO": env.choice("DMP_OIDC_SIGN_ALGO", ("RS256", "ES256"), "RS256"),
            "OIDC_RP_SCOPES": scopes,
            # The provider is asked for the accepted levels; the answer's acr is checked anyway.
            "OIDC_AUTH_REQUEST_EXTRA_PARAMS": {"acr_values": " ".join(acr_values)},
            # A provider that hangs fails the sign-in instead of holding a web worker for ever.
            "OIDC_TIMEOUT": timeout,
        }
    )
    return values


# Every name below is a setting (settings/__init__.py imports them all), typed for the checker.
_VALUES = read(Env())
DMP_OIDC_ENABLED: bool = _VALUES["DMP_OIDC_ENABLED"]
DMP_OIDC_ISSUER: str = _VALUES["DMP_OIDC_ISSUER"]
DMP_OIDC_ACR_VALUES: tuple[str, ...] = _VALUES["DMP_OIDC_ACR_VALUES"]
DMP_OIDC_RPPS_CLAIM: str = _VALUES["DMP_OIDC_RPPS_CLAIM"]
DMP_OIDC_RPPS_PREFIX: str = _VALUES["DMP_OIDC_RPPS_PREFIX"]
DMP_OIDC_PROVIDER_NAME: str = _VALUES["DMP_OIDC_PROVIDER_NAME"]
OIDC_OP_AUTHORIZATION_ENDPOINT: str = _VALUES["OIDC_OP_AUTHORIZATION_ENDPOINT"]
OIDC_OP_TOKEN_ENDPOINT: str = _VALUES["OIDC_OP_TOKEN_ENDPOINT"]
OIDC_OP_USER_ENDPOINT: str = _VALUES["OIDC_OP_USER_ENDPOINT"]
OIDC_OP_JWKS_ENDPOINT: str = _VALUES["OIDC_OP_JWKS_ENDPOINT"]
OIDC_RP_CLIENT_ID: str = _VALUES["OIDC_RP_CLIENT_ID"]
OIDC_RP_CLIENT_SECRET: str = _VALUES["OIDC_RP_CLIENT_SECRET"]
OIDC_RP_SIGN_ALGO: str = _VALUES["OIDC_RP_SIGN_ALGO"]
OIDC_RP_SCOPES: str = _VALUES["OIDC_RP_SCOPES"]
OIDC_AUTH_REQUEST_EXTRA_PARAMS: dict[str, str] = _VALUES["OIDC_AUTH_REQUEST_EXTRA_PARAMS"]
OIDC_TIMEOUT: int = _VALUES["OIDC_TIMEOUT"]
OIDC_USE_NONCE: bool = _VALUES["OIDC_USE_NONCE"]
OIDC_USE_PKCE: bool = _VALUES["OIDC_USE_PKCE"]
OIDC_PKCE_CODE_CHALLENGE_METHOD: str = _VALUES["OIDC_PKCE_CODE_CHALLENGE_METHOD"]
OIDC_TOKEN_USE_BASIC_AUTH: bool = _VALUES["OIDC_TOKEN_USE_BASIC_AUTH"]
OIDC_CREATE_USER: bool = _VALUES["OIDC_CREATE_USER"]
OIDC_VERIFY_SSL: bool = _VALUES["OIDC_VERIFY_SSL"]
OIDC_STORE_ACCESS_TOKEN: bool = _VALUES["OIDC_STORE_ACCESS_TOKEN"]
OIDC_STORE_ID_TOKEN: bool = _VALUES["OIDC_STORE_ID_TOKEN"]
OIDC_AUTHENTICATION_CALLBACK_URL: str = _VALUES["OIDC_AUTHENTICATION_CALLBACK_URL"]
# Django's password backend, and ours when enabled: disabled later, a session opened through
# the provider ends at its next request (Django forgets a user whose backend is not listed).
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    *([BACKEND] if DMP_OIDC_ENABLED else []),
]
__all__ = [
    "AUTHENTICATION_BACKENDS",
    "DMP_OIDC_ACR_VALUES",
    "DMP_OIDC_ENABLED",
    "DMP_OIDC_ISSUER",
    "DMP_OIDC_PROVIDER_NAME",
    "DMP_OIDC_RPPS_CLAIM",
    "DMP_OIDC_RPPS_PREFIX",
    "OIDC_AUTHENTICATION_CALLBACK_URL",
    "OIDC_AUTH_REQUEST_EXTRA_PARAMS",
    "OIDC_CREATE_USER",
    "OIDC_OP_AUTHORIZATION_ENDPOINT",
    "OIDC_OP_JWKS_ENDPOINT",
    "OIDC_OP_TOKEN_ENDPOINT",
    "OIDC_OP_USER_ENDPOINT",
    "OIDC_PKCE_CODE_CHALLENGE_METHOD",
    "OIDC_RP_CLIENT_ID",
    "OIDC_RP_CLIENT_SECRET",
    "OIDC_RP_SCOPES",
    "OIDC_RP_SIGN_ALGO",
    "OIDC_STORE_ACCESS_TOKEN",
    "OIDC_STORE_ID_TOKEN",
    "OIDC_TIMEOUT",
    "OIDC_TOKEN_USE_BASIC_AUTH",
    "OIDC_USE_NONCE",
    "OIDC_USE_PKCE",
    "OIDC_VERIFY_SSL",
]
