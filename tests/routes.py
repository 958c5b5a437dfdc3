"""The project's URL patterns as strings, and how to fill one in: the tables of
tests/isolation_table.py, tests/test_authorization_matrix.py and tests/test_admin_matrix.py
list every route, so that a new page fails them until someone classifies it."""

from __future__ import annotations

from collections.abc import Iterator

from django.urls import get_resolver
from django.urls.resolvers import URLResolver


def all_routes() -> list[str]:
    """Every URL pattern of the project, the admin's included, as written in the URLconfs."""
    return list(_walk(get_resolver().url_patterns, include_admin=True))


def project_routes() -> list[str]:
    """Every URL pattern but the admin's (the admin's own tests and matrix cover those)."""
    return list(_walk(get_resolver().url_patterns, include_admin=False))


def _walk(patterns, include_admin: bool, prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if not include_admin and str(pattern.pattern) == "admin/":
                continue
            yield from _walk(pattern.url_patterns, include_admin, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern)


def concrete(route: str, values: dict) -> str:
    """The path of ``route`` with each ``<converter:name>`` replaced by ``values[name]``."""
    path = route
    for name, value in values.items():
        for converter in ("uuid", "int", "str", "path"):
            path = path.replace(f"<{converter}:{name}>", str(value))
    return "/" + path
