"""Sizes of the database and the stored files: the inputs of README's capacity model.

    python scripts/testenv.py -- .venv/bin/python bench/sizes.py      (after seeding)

``bench/load.py --sizes`` prints the same after seeding and again after its run, with the audit
events the run wrote, so that the bytes per audit event are measured on the trail's real rows.

For every table of the public schema with at least one row: its exact row count, the bytes of
its heap (``pg_relation_size``, main fork), of its TOAST table, of its indexes
(``pg_indexes_size``) and in all (``pg_total_relation_size``), then ``pg_database_size``. The
files under MEDIA_ROOT: their count, the bytes they hold and the bytes the file system gives
them (``st_blocks``: a small file takes a whole block).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dmp_portal.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from psycopg import sql  # noqa: E402

AUDIT_TABLES = ("access_control_auditevent", "access_control_auditchain")


@dataclass(frozen=True)
class TableSize:
    name: str
    rows: int
    heap: int  # main fork
    toast: int  # the TOAST table and its index (0 when none)
    indexes: int
    total: int


def table_sizes() -> list[TableSize]:
    """Every non-empty table of the public schema, largest first (exact row counts)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_relation_size(c.oid),"
            " COALESCE(pg_total_relation_size(NULLIF(c.reltoastrelid, 0)), 0),"
            " pg_indexes_size(c.oid), pg_total_relation_size(c.oid)"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"
        )
        found = cursor.fetchall()
        sizes = []
        for name, heap, toast, indexes, total in found:
            cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name)))
            rows = int(cursor.fetchone()[0])
            if rows:
                sizes.append(TableSize(name, rows, heap, toast, indexes, total))
    return sorted(sizes, key=lambda size: size.total, reverse=True)


def database_bytes() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        return int(cursor.fetchone()[0])


def files_usage(root: Path | None = None) -> tuple[int, int, int]:
    """(files, bytes of data, bytes on disk) under MEDIA_ROOT."""
    count = data = disk = 0
    for folder, _dirs, names in os.walk(root or Path(settings.MEDIA_ROOT)):
        for name in names:
            stat = os.stat(os.path.join(folder, name))
            count, data, disk = count + 1, data + stat.st_size, disk + stat.st_blocks * 512
    return count, data, disk


def audit_bytes() -> tuple[int, int]:
    """(events, bytes of the trail's tables with their indexes and TOAST)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM access_control_auditevent")
        events = int(cursor.fetchone()[0])
        cursor.execute(
            "SELECT sum(pg_total_relation_size(c))::bigint FROM unnest(%s::regclass[]) AS c",
            [list(AUDIT_TABLES)],
        )
        return events, int(cursor.fetchone()[0])


def report(title: str) -> str:
    """The tables, the database and the files as printable text."""
    mb = 1_000_000
    lines = [
        f"== sizes: {title}",
        f"{'table':<42} {'rows':>10} {'heap MB':>8} {'toast MB':>8} {'index MB':>8} "
        f"{'total MB':>8} {'B/row':>6}",
    ]
    for size in table_sizes():
        lines.append(
            f"{size.name:<42} {size.rows:>10} {size.heap / mb:>8.1f} {size.toast / mb:>8.1f} "
            f"{size.indexes / mb:>8.1f} {size.total / mb:>8.1f} {size.total // size.rows:>6}"
        )
    lines.append(f"pg_database_size: {database_bytes()} bytes ({database_bytes() / mb:.0f} MB)")
    count, data, disk = files_usage()
    lines.append(f"files under MEDIA_ROOT: {count} files, {data} bytes of data, {disk} on disk")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report("current database"))
