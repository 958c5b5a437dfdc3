"""Filler rows for the load benchmark at scale: copies of the seeded records, made in SQL.

``demo.bulk_seed`` writes every row through the portal's own code (each field sealed under
its row, each title's search tokens computed): on this shared 2-core machine it seeded 100 to
190 documents a second (2026-12-01, load average 10 to 20), so 1,000,000 documents would take
hours. ``bench/load.py --fill-copies K`` seeds the usual records that way, then calls
:func:`fill`, which copies those patients, their practitioners and everything seeded for them
K times in PostgreSQL alone: data keys, accounts, practitioners' profiles, registry entries,
consents, documents and search tokens, each copy with its own ids, unique values and usernames
(``fill<K>-`` before the original's).

The copies have the same shapes and byte sizes as the originals (so the tables, their indexes
and the database weigh what real rows would, and the planner sees tables K + 1 times larger),
but their sealed columns are the originals' ciphertext, bound to the original row and owner:
they would not decrypt, and nothing reads them. The benchmark only logs in seeded users
(``bulk-<run>-p``/``-m`` usernames) and a copied patient's consent names a copied
practitioner, so every page and count the benchmark makes reads seeded rows only, among
K + 1 times as many.

User ids are UUIDs: a copy's is ``md5(original id || ':' || copy)``, the same function
wherever a user is named (patient, practitioner, author), so that the copies' foreign keys
stay consistent. Bigint ids are shifted by ``copy * OFFSET``; the sequences are then moved past
the copies.

Cost (2026-12-01, 49 copies of 20,000 documents on the shared 2-core machine at load average
20+): documents 137 s, search tokens 1,581 s (their three indexes take random inserts), then
the COMMIT's deferred foreign-key checks, one per new row, more than 6 minutes. Inserting the
tokens in index order and checking the foreign keys once would be the next step; not done.
"""

from __future__ import annotations

import time

from django.db import connection, transaction

OFFSET = 10**8  # above any id the seed makes (search tokens: ~30 per document)
TABLES = (  # parents before children: the foreign keys are checked at each statement
    "crypto_datakey",
    "accounts_user",
    "accounts_practitionerprofile",
    "enrollment_beneficiary",
    "access_control_consent",
    "records_document",
    "records_searchtoken",
)
USER = "md5({column}::text || ':' || c)::uuid"
UID = "md5({column}::text || ':' || c)::uuid"
SHIFT = "{column} + c::bigint * %(offset)s"
# Per table: the columns a copy changes (the others are copied as they are).
CHANGED: dict[str, dict[str, str]] = {
    "crypto_datakey": {"id": SHIFT, "uid": UID},
    "accounts_user": {
        "id": USER,
        "username": "'fill' || c || '-' || {column}",
        "email": "'fill' || c || '-' || {column}",
        "data_key_id": SHIFT,
    },
    "accounts_practitionerprofile": {
        "id": SHIFT,
        "user_id": USER,
        # Unique, 11 characters like a real RPPS number; 7 starts none the seed makes.
        "rpps": "'7' || lpad((c * 100000 + id)::text, 10, '0')",
    },
    "enrollment_beneficiary": {
        "id": SHIFT,
        "uid": UID,
        "nir_index": "left(encode(sha256(convert_to({column} || ':' || c, 'UTF8')), 'hex'),"
        " length({column}))",
        "patient_id": USER,
        "data_key_id": SHIFT,
    },
    "access_control_consent": {"id": SHIFT, "patient_id": USER, "practitioner_id": USER},
    "records_document": {
        "id": SHIFT,
        "uid": UID,
        "file_name": "'records/' || md5(uid::text || ':' || c)::uuid || '.bin'",
        "author_id": USER,
        "patient_id": USER,
        "data_key_id": SHIFT,
        "replaces_id": SHIFT,
    },
    "records_searchtoken": {"id": SHIFT, "indexed_document_id": SHIFT},
}


def _columns(cursor, table: str) -> list[str]:
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public'"
        " AND table_name = %s ORDER BY ordinal_position",
        [table],
    )
    return [row[0] for row in cursor.fetchall()]


def fill(copies: int, log=print) -> None:
    """Copy every row of the seeded tables ``copies`` times (see the module's docstring)."""
    with transaction.atomic(), connection.cursor() as cursor:
        for table in TABLES:
            started = time.perf_counter()
            columns = _columns(cursor, table)
            unknown = set(CHANGED[table]) - set(columns)
            if unknown:
                raise SystemExit(f"bench/fill.py: {table} has no column {sorted(unknown)}")
            values = [
                CHANGED[table].get(column, "{column}").format(column=f'"{column}"')
                for column in columns
            ]
            names = ", ".join(f'"{column}"' for column in columns)
            # Table and column names come from the constants above and information_schema.
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT {', '.join(values)}"  # noqa: S608
                f" FROM {table}, generate_series(1, %(copies)s) AS c",
                {"copies": copies, "offset": OFFSET},
            )
            log(f"fill: {table} +{cursor.rowcount} rows in {time.perf_counter() - started:.0f} s")
            if "id" in columns and table != "accounts_user":
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"  # noqa: S608
                    f" (SELECT max(id) FROM {table}))"
                )
