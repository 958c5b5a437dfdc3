"""What the backup drill compares before the backup and after the restore: every stored file
decrypted and hashed, and the row count of every table. Run in the drill's own process on the
database backed up, and as ``manage.py shell -c`` on the restored one (``main`` prints JSON)."""

from __future__ import annotations

import hashlib
import json

from django.core.files.storage import default_storage
from django.db import connection

from dmp_portal.crypto.errors import DataDestroyed
from dmp_portal.crypto.files import open_decrypted
from letters.models import Letter
from records.models import Document

DESTROYED = "destroyed"


def plaintext_hashes() -> dict[str, str]:
    """SHA-256 of every document's and letter's plaintext, read back through the storage and
    decrypted with its data key; ``destroyed`` when the key was destroyed (crypto-shredding)."""
    found = {}
    stored = [
        (f"document:{d.uid}", d.file_name, d.data_key, d.file_aad())
        for d in Document.objects.select_related("data_key")
    ]
    stored += [
        (f"letter:{letter.uid}", letter.pdf_name, letter.data_key, letter.pdf_aad())
        for letter in Letter.objects.select_related("data_key").exclude(pdf_name="")
    ]
    for label, name, data_key, aad in stored:
        if data_key.is_destroyed:  # a purge deletes the files after destroying the key
            found[label] = DESTROYED
            continue
        digest = hashlib.sha256()
        try:
            for chunk in open_decrypted(default_storage, name, data_key, aad):
                digest.update(chunk)
        except DataDestroyed:
            found[label] = DESTROYED
        else:
            found[label] = digest.hexdigest()
    return found


def row_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        tables = sorted(connection.introspection.table_names(cursor))
        counts = {}
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 (names from the catalog)
            counts[table] = cursor.fetchone()[0]
    return counts


def destroyed_keys() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT uid FROM crypto_datakey WHERE destroyed_at IS NOT NULL")
        return sorted(str(uid) for (uid,) in cursor.fetchall())


def main() -> None:
    print(
        json.dumps(
            {"files": plaintext_hashes(), "rows": row_counts(), "destroyed": destroyed_keys()}
        )
    )


def decrypted_size(storage, document: Document) -> int:
    """How many bytes the document's stored file decrypts to (it must open)."""
    return sum(
        len(part)
        for part in open_decrypted(
            storage, document.file_name, document.data_key, document.file_aad()
        )
    )
