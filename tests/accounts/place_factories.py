"""A tiny place database (MaxMind DB format) for the sessions page's approximate places, built
with mmdb-writer, and addresses in and out of it."""

from __future__ import annotations

from pathlib import Path

from mmdb_writer import MMDBWriter
from netaddr import IPSet

# Public addresses: the documentation ranges (192.0.2.0/24...) are not global, so never placed.
LYON = "81.250.3.4"  # in 81.250.0.0/16
LONDON = "2a00:23c0:7::15"  # in 2a00:23c0::/32
NOWHERE = "81.251.3.4"  # public, in no network of the database


def names(fr: str | None, en: str) -> dict:
    return {"names": {"en": en} | ({"fr": fr} if fr else {})}


def write_database(path: Path, database_type: str = "GeoLite2-City") -> Path:
    """A tiny MaxMind DB: two public networks with French and English city and country names,
    a country without a town, a town named only in English, and two non-public ranges that a
    careless database could hold (they must name no place)."""
    writer = MMDBWriter(
        ip_version=6,
        ipv4_compatible=True,
        database_type=database_type,
        languages=["fr", "en"],
        description="Test database of the sessions page",
    )
    writer.insert_network(
        IPSet(["81.250.0.0/16"]),
        {"city": names("Lyon", "Lyon"), "country": names("France", "France")},
    )
    writer.insert_network(
        IPSet(["2a00:23c0::/32"]),
        {"city": names("Londres", "London"), "country": names("Royaume-Uni", "United Kingdom")},
    )
    writer.insert_network(IPSet(["5.10.0.0/16"]), {"country": names("Allemagne", "Germany")})
    writer.insert_network(
        IPSet(["5.11.0.0/16"]),
        {"city": names(None, "Aachen"), "country": names("Allemagne", "Germany")},
    )
    writer.insert_network(
        IPSet(["10.0.0.0/8", "192.0.2.0/24"]),
        {"city": names("Paris", "Paris"), "country": names("France", "France")},
    )
    writer.to_db_file(str(path))
    return path
