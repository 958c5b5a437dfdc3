"""A production environment for a ``manage.py`` process: every secret set (fresh keys), none of
the test run's own settings inherited; tests take one away or change one to see what happens."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def random_key() -> str:
    """A key in the form the settings read (url-safe base64 of 32 random bytes)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


# Who runs the portal (production requires each, dmp_portal/settings/public_pages.py), and what
# the letter signs with.
OPERATOR = {
    "DMP_OPERATOR_NAME": "Agence régionale du dossier partagé",
    "DMP_OPERATOR_ADDRESS": "Service des inscriptions;TSA 12345;75000 PARIS",
    "DMP_OPERATOR_PHONE": "01 99 00 00 10",
    "DMP_OPERATOR_EMAIL": "contact@dmp.example.fr",
    "DMP_DPO_CONTACT": "dpo@dmp.example.fr",
    "DMP_OPERATOR_REGISTRATION": "SIREN 123 456 789",
    "DMP_PUBLICATION_DIRECTOR": "Claude Martin",
    "DMP_HOST_NAME": "Hébergeur HDS",
    "DMP_HOST_ADDRESS": "2 avenue des Serveurs;69000 LYON",
    "DMP_HOST_PHONE": "01 99 00 00 11",
    # What only the letter says (production requires each, dmp_portal/settings/letter.py).
    "DMP_LETTER_PLACE": "Paris",
    "DMP_LETTER_SIGNATORY": "La responsable des inscriptions;Claude Martin",
    "DMP_LETTER_RETENTION": "un an après l'envoi de ce courrier",
}


def production_environ(**overrides) -> dict[str, str]:
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            (
                "DMP_",
                "DATABASE_URL",
                "CELERY_",
                "CACHE_URL",
                "SECRET_KEY",
                "ALLOWED_HOSTS",
                "EMAIL_",
            )
        )
    }
    environ.update(
        DMP_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL="postgres://dmp:pw@127.0.0.1:5432/dmp",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
        DMP_MASTER_KEYS=f"prod-1:{random_key()}",
        DMP_BLIND_INDEX_KEY=random_key(),
        DMP_AUDIT_SIGNING_KEY=random_key(),
        ALLOWED_HOSTS="dmp.example.fr",
        DMP_SITE_URL="https://dmp.example.fr",
        STATIC_ROOT="/tmp/dmp-static-check",
        DMP_SHRED_LEDGER_PATH="/tmp/dmp-shred-ledger-check/destroyed-keys.log",
        **OPERATOR,
    )
    environ.update(overrides)
    return {key: value for key, value in environ.items() if value is not None}


def run_manage(
    environ: dict[str, str], *args: str, timeout: float = 120
) -> subprocess.CompletedProcess:
    """``manage.py *args`` in a process of its own with exactly ``environ``, its output kept."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
