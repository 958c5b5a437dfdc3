"""What the database holds, read back after a refused request to prove that nothing changed."""

from __future__ import annotations

from django.conf import settings
from django.db import connection

from accounts.models import AccountSession
from accounts.sessions import hash_session_key


def _plain(row) -> tuple:
    return tuple(bytes(value) if isinstance(value, memoryview) else value for value in row)


def session_keys(*clients) -> set[str]:
    """The store's keys of the sessions the given test clients hold (their own browser's
    sessions): the store keeps a keyed hash of each cookie's value, never the value."""
    keys = set()
    for client in clients:
        morsel = client.cookies.get(settings.SESSION_COOKIE_NAME)
        if morsel is not None and morsel.value:
            keys.add(hash_session_key(morsel.value))
    return keys


def database_snapshot(
    ignore_sessions: set[str] | frozenset[str] = frozenset(),
) -> dict[str, list]:
    """Every row of every table as stored (ciphertext included), except the audit trail, where
    refusals are recorded on purpose, and the sessions given (the acting browser's own)."""
    snapshot = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names()):
            if table.startswith("access_control_audit"):
                continue
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - names from introspection
            rows = [_plain(row) for row in cursor]
            if table == AccountSession._meta.db_table:
                rows = [row for row in rows if row[0] not in ignore_sessions]
            snapshot[table] = sorted(rows, key=repr)
    return snapshot


def changed_tables(before: dict, after: dict) -> set[str]:
    return {
        table for table in before.keys() | after.keys() if before.get(table) != after.get(table)
    }


def table_rows(table: str, column: str, value) -> list[tuple]:
    """The rows of ``table`` whose ``column`` is ``value``, as stored (encrypted fields too)."""
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT * FROM "{table}" WHERE "{column}" = %s', [value])  # noqa: S608
        return sorted((_plain(row) for row in cursor), key=repr)
