"""The optional place database of the sessions page: ``DMP_GEOIP_PATH``.

A MaxMind DB file of cities or countries (MaxMind's GeoLite2-City or GeoLite2-Country, DB-IP's
free "IP to City Lite" or "IP to Country Lite"; README, Configuration) lets /accounts/sessions/
name the approximate place of each session's network (« Lyon, France »). Empty (the default),
the page shows the network only and says so.

Checked at start-up, like the other paths the settings read (``NAME_FILE``): a file that is
missing, unreadable or not a database of cities or countries stops production, naming the
setting, so that a deployment never runs believing it names places when it does not. In
development and tests it only warns, and the portal runs without places.
"""

from __future__ import annotations

import warnings

import maxminddb
from django.core.exceptions import ImproperlyConfigured

__all__ = ["place_database"]


def place_database(path: str, *, production: bool) -> str:
    """``path`` when it is a readable MaxMind DB of cities or countries; "" when it is empty,
    or (outside production, with a warning) when it is not. In production: ImproperlyConfigured
    naming DMP_GEOIP_PATH."""
    if not path:
        return ""
    problem = _problem(path)
    if problem is None:
        return path
    message = f"DMP_GEOIP_PATH points to {path!r}, which {problem}."
    if production:
        raise ImproperlyConfigured(
            "Production mode (DMP_ENV=production) refuses to start: "
            + message
            + " Fix the file, or leave DMP_GEOIP_PATH empty to show the network only. "
            "See README, section Configuration."
        )
    warnings.warn(
        message + " The sessions page shows the network only.", RuntimeWarning, stacklevel=2
    )
    return ""


def _problem(path: str) -> str | None:
    """What is wrong with the file, or None when it is a database of cities or countries."""
    try:
        reader = maxminddb.open_database(path)
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    except (maxminddb.InvalidDatabaseError, ValueError):
        return "is not a MaxMind DB file (.mmdb)"
    with reader:
        kind = reader.metadata().database_type
    # "GeoLite2-City", "GeoIP2-Country", "DBIP-City-Lite", "DBIP-Country-Lite"...: an ASN or
    # ISP database opens too, but names no place.
    if "City" not in kind and "Country" not in kind:
        return f"is a {kind!r} database, not one of cities or countries"
    return None
