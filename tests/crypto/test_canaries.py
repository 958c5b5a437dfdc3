"""A canary written through every encrypted field never appears in a dump or the media folder."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage
from django.db import connection

from dmp_portal.crypto.datakeys import create_data_key
from dmp_portal.crypto.files import open_decrypted, save_encrypted
from tests.crypto.canaries import (
    CANARY,
    WRITERS,
    encrypted_model_labels,
    forms_of,
    write_all,
)
from tests.storage_backends import stored_bytes

ROOT = Path(__file__).resolve().parents[2]


def test_every_model_with_an_encrypted_field_has_a_canary_writer():
    assert encrypted_model_labels() == set(WRITERS)


@pytest.mark.django_db(transaction=True)
def test_canary_is_absent_from_a_pg_dump(pg_dump):
    write_all()
    db = connection.settings_dict
    dump = subprocess.run(
        [
            pg_dump,
            "--data-only",
            "-h",
            db["HOST"],
            "-p",
            str(db["PORT"]),
            "-U",
            db["USER"],
            db["NAME"],
        ],
        capture_output=True,
        check=True,
        timeout=120,
        env={**os.environ, "PGPASSWORD": db["PASSWORD"] or ""},
    ).stdout
    assert b"COPY public.accounts_totpdevice" in dump  # the dump did include the tables
    for form in forms_of(CANARY):
        assert form not in dump
    # The files written through the project's storage (documents, letters) too.
    stored = stored_bytes()
    assert stored
    for form in forms_of(CANARY):
        assert form not in stored


def test_canary_is_absent_from_the_development_sqlite_file(tmp_path):
    script = (
        "import django; django.setup()\n"
        "from django.core.management import call_command\n"
        "call_command('migrate', verbosity=0)\n"
        "from tests.crypto.canaries import write_all, WRITERS, encrypted_model_labels\n"
        "write_all()\n"
        "print(sorted(encrypted_model_labels()))\n"
    )
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DMP_", "DATABASE_URL", "CELERY_", "CACHE_URL"))
    }
    environ.update(
        DMP_ENV="development",
        DMP_VAR_DIR=str(tmp_path / "var"),
        DJANGO_SETTINGS_MODULE="dmp_portal.settings",
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "accounts.TOTPDevice" in result.stdout
    database = b"".join(path.read_bytes() for path in (tmp_path / "var").glob("db.sqlite3*"))
    assert len(database) > 10_000
    for form in forms_of(CANARY):
        assert form not in database


@pytest.mark.django_db
def test_canary_is_absent_from_the_storage_folder(tmp_path):
    storage = FileSystemStorage(location=tmp_path / "media")
    data_key = create_data_key("patient")
    content = (CANARY + "\n") * 50_000
    name, _size = save_encrypted(
        storage, "canary.txt", io.BytesIO(content.encode()), data_key, b"row=1"
    )
    stored = b"".join(p.read_bytes() for p in (tmp_path / "media").rglob("*") if p.is_file())
    assert len(stored) > len(content)
    for form in forms_of(CANARY):
        assert form not in stored
    assert b"".join(open_decrypted(storage, name, data_key, b"row=1")).decode() == content
