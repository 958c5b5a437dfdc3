"""The tests' OpenID Connect provider: a second process of this project's own
django-oauth-toolkit, in OIDC mode, standing for Pro Santé Connect (README, « Connexion des
professionnels par OpenID Connect »). Never the portal's settings with the provider mode on: a
server of its own, started by tests/accounts/oidc_fixtures.py, on its own database.

It imports the portal's settings (logging, security, the OAuth2 server's RFC 9700 behaviours,
PKCE required) and keeps only what a provider needs: Django's own users (each provider user
says which RPPS and which authentication level the provider vouches for: see validator.py),
sessions, and the toolkit with OIDC on, signing with an RSA key made for the run.
"""

import os
from pathlib import Path

from dmp_portal.settings import *  # noqa: F403
from dmp_portal.settings import OAUTH2_PROVIDER

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
]
AUTH_USER_MODEL = "auth.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # a test server's users
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "tests.oidc_provider.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [Path(__file__).resolve().parent / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
            ]
        },
    }
]
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# Both servers listen on the loopback, and cookies do not tell ports apart: the provider's own
# names, so that the browser keeps the portal's session and the provider's side by side.
SESSION_COOKIE_NAME = "provider_session"
CSRF_COOKIE_NAME = "provider_csrftoken"
SESSION_EXPIRE_AT_BROWSER_CLOSE = False
LOGIN_URL = "/login/"
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
OAUTH2_PROVIDER = {
    **OAUTH2_PROVIDER,
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": os.environ["OIDC_PROVIDER_RSA_KEY"],
    "OIDC_ISS_ENDPOINT": os.environ["OIDC_PROVIDER_ISSUER"],
    "OAUTH2_VALIDATOR_CLASS": "tests.oidc_provider.validator.ProviderValidator",
    # Pro Santé Connect's scopes.
    "SCOPES": {"openid": "OpenID Connect", "scope_all": "Every claim"},
    "DEFAULT_SCOPES": ["openid"],
}
