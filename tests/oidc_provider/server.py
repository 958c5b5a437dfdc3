"""The tests' OpenID Connect provider as a running server: its own database on the suite's
PostgreSQL, seeded (seed.py), then gunicorn on a free loopback port with the provider's
settings (settings.py), and a key pair made for the run. A support module, not a fixture: the
OpenID Connect tests' fixtures call ``running_provider`` and say who the provider knows.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings

from tests.processes import ROOT, stop_worker, wait_listening

CLIENT_ID = "portail-dmp"


@dataclass(frozen=True)
class Provider:
    url: str
    issuer: str
    client_id: str
    client_secret: str

    def portal_settings(self, acr_values: tuple[str, ...] = ("eidas1",)) -> dict[str, object]:
        """What the portal's settings hold once DMP_OIDC_* name this provider
        (dmp_portal/settings/oidc.py reads the same values from the environment)."""
        return {
            "DMP_OIDC_ENABLED": True,
            "DMP_OIDC_ISSUER": self.issuer,
            "DMP_OIDC_ACR_VALUES": acr_values,
            "DMP_OIDC_RPPS_CLAIM": "SubjectNameID",
            "DMP_OIDC_RPPS_PREFIX": "8",
            "DMP_OIDC_PROVIDER_NAME": "Pro Santé Connect",
            "AUTHENTICATION_BACKENDS": [
                "django.contrib.auth.backends.ModelBackend",
                "accounts.oidc.PractitionerOIDCBackend",
            ],
            "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{self.issuer}/authorize/",
            "OIDC_OP_TOKEN_ENDPOINT": f"{self.issuer}/token/",
            "OIDC_OP_USER_ENDPOINT": f"{self.issuer}/userinfo/",
            "OIDC_OP_JWKS_ENDPOINT": f"{self.issuer}/.well-known/jwks.json",
            "OIDC_RP_CLIENT_ID": self.client_id,
            "OIDC_RP_CLIENT_SECRET": self.client_secret,
            "OIDC_RP_SIGN_ALGO": "RS256",
            "OIDC_RP_SCOPES": "openid scope_all",
            "OIDC_USE_NONCE": True,
            "OIDC_USE_PKCE": True,
            "OIDC_PKCE_CODE_CHALLENGE_METHOD": "S256",
            "OIDC_TOKEN_USE_BASIC_AUTH": True,
            "OIDC_AUTH_REQUEST_EXTRA_PARAMS": {"acr_values": " ".join(acr_values)},
            "OIDC_CREATE_USER": False,
            "OIDC_TIMEOUT": 10,
            "OIDC_AUTHENTICATION_CALLBACK_URL": "oidc:callback",
        }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url(name: str) -> str:
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{name}"


def _admin_connection() -> psycopg.Connection:
    db = settings.DATABASES["default"]
    return psycopg.connect(
        host=db["HOST"],
        port=db["PORT"],
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )


def _rsa_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@contextlib.contextmanager
def running_provider(
    redirect_uri: str, users: list[tuple[str, str, str, str]], log_dir: Path
) -> Iterator[Provider]:
    """The provider, serving until the block ends. ``users``: (username, password, acr,
    SubjectNameID) of each person the provider knows."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    issuer = f"{url}/oauth"
    secret = secrets.token_urlsafe(24)
    database = f"oidc_provider_{secrets.token_hex(4)}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.oidc_provider.settings",
        "DATABASE_URL": _database_url(database),
        "OIDC_PROVIDER_RSA_KEY": _rsa_key(),
        "OIDC_PROVIDER_ISSUER": issuer,
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "plain",
    }
    with _admin_connection() as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    process = None
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / "oidc-provider.log"
    try:
        spec = {
            "client_id": CLIENT_ID,
            "client_secret": secret,
            "redirect_uri": redirect_uri,
            "users": users,
        }
        subprocess.run(
            [sys.executable, "-m", "tests.oidc_provider.seed", json.dumps(spec)],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=120,
        )
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [str(Path(sys.executable).with_name("gunicorn")), "tests.oidc_provider.wsgi"]
                + ["--bind", f"127.0.0.1:{port}", "--workers", "2", "--no-control-socket"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_listening(process, port, log_path, "the provider")
        yield Provider(url=url, issuer=issuer, client_id=CLIENT_ID, client_secret=secret)
    finally:
        if process is not None:
            stop_worker(process)
        with _admin_connection() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
