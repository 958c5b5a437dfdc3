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
