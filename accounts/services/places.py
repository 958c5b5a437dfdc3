"""The approximate place of a session's network, for /accounts/sessions/: « Lyon, France »,
« France », or "" when no place can be named.

Read from the MaxMind DB file of ``DMP_GEOIP_PATH`` (checked at start-up,
``dmp_portal.settings.geoip``) with ``maxminddb``, MaxMind's own reader: the format is theirs
and DB-IP's free databases use it too. Looked up once, when the login completes, and kept with
the session (``accounts.sessions.AccountSession.place``): only the words of the place, never
the address, and never more precise than a town (no district, postcode or coordinates, which
the databases also hold): data minimisation (GDPR, art. 5(1)(c)).

A private, loopback, link-local, carrier-grade NAT or documentation address has no place: the
databases do not place them, and saying « Réseau local » would be wrong whenever the portal's
proxy is misconfigured (every session would look local). The page then shows the network only.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from functools import lru_cache
from typing import Any

import maxminddb
from django.conf import settings

from accounts.sessions import PLACE_MAX_LENGTH

logger = logging.getLogger(__name__)

# French names first (the portal's language); else the English ones, which every database has.
NAME_LANGUAGES = ("fr", "en")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_address(client_address: str) -> Address | None:
    """The address, IPv4-mapped IPv6 ones as IPv4 and without an IPv6 zone; None if invalid."""
    try:
        address = ipaddress.ip_address(client_address.strip().split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def place_of(client_address: str) -> str:
    """« Lyon, France » (town and country), « France » (the country alone), or "": no database
    configured, an address that is not public, or one the database does not place."""
    path = settings.DMP_GEOIP_PATH
    address = parse_address(client_address)
    if not path or address is None or not address.is_global:
        return ""
    try:
        record = _reader(path, _version(path)).get(address)
    except (OSError, ValueError, maxminddb.InvalidDatabaseError):
        # Replaced by a broken file since start-up: a login must not fail for a place.
        logger.warning("The place database (DMP_GEOIP_PATH) cannot be read: no place named.")
        return ""
    city, country = _name(record, "city"), _name(record, "country")
    if not country:
        return ""
    return (f"{city}, {country}" if city else country)[:PLACE_MAX_LENGTH]


def place_database_source() -> str:
    """Whose data the configured database holds, for the credit its licence asks the page to
    give: "maxmind" (GeoLite2, GeoIP2), "dbip" (DB-IP), "other", or "" when none is configured."""
    path = settings.DMP_GEOIP_PATH
    if not path:
        return ""
    try:
        kind = _reader(path, _version(path)).metadata().database_type
    except (OSError, ValueError, maxminddb.InvalidDatabaseError):
        return "other"
    if kind.startswith(("GeoLite2", "GeoIP2")):
        return "maxmind"
    if kind.startswith("DBIP"):
        return "dbip"
    return "other"


def _version(path: str) -> tuple[int, int]:
    """Which file is at ``path`` now: a database updated in place (the monthly download moved
    over the old one) is opened anew at the next login, without a restart."""
    stat = os.stat(path)
    return stat.st_ino, stat.st_mtime_ns


@lru_cache(maxsize=1)
def _reader(path: str, version: tuple[int, int]) -> maxminddb.Reader:
    """One open reader per process (memory-mapped, shared by the threads), for the file's
    current ``version``."""
    return maxminddb.open_database(path)


def _name(record: Any, part: str) -> str:
    """The French, else English, name of ``record[part]`` ("city", "country"), or ""."""
    entry = record.get(part) if isinstance(record, dict) else None
    names = entry.get("names") if isinstance(entry, dict) else None
    if not isinstance(names, dict):
        return ""
    for language in NAME_LANGUAGES:
        name = names.get(language)
        if isinstance(name, str) and name.strip():
            return " ".join(name.split())
    return ""
