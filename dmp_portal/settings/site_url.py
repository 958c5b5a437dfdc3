"""Development's address of the portal, shared by `make run` and every command of the checkout.

`make run` serves on 127.0.0.1:PORT and writes that address to ``var/site-url`` before it starts
anything; the settings of every process in development mode read it as the default of
``DMP_SITE_URL``. A command run from another shell (``import_practitioners``, whose e-mails carry
activation links) then links to the port the portal actually runs on, with nothing to repeat.
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

SITE_URL_FILE = "site-url"


def development_site_url(var_dir: Path) -> str | None:
    """The address the last `make run` served, or None before the first one."""
    path = var_dir / SITE_URL_FILE
    try:
        value = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    if not value.startswith(("http://", "https://")):
        raise ImproperlyConfigured(
            f"{path} should hold the portal's address (http://127.0.0.1:PORT), not {value!r}: "
            "delete the file, `make run` writes it again."
        )
    return value
