"""seed_bulk is PostgreSQL only (its report ends with ``pg_database_size``): on the development
SQLite database it refuses with a clear message before it writes anything. It used to write the
practitioners and a batch of patients, then crash measuring the database."""

from __future__ import annotations

import os
import sqlite3

from tests.production import run_manage


def test_seed_bulk_refuses_the_development_sqlite_database_before_writing(tmp_path):
    # What `make run` gives: development mode, the SQLite database under DMP_VAR_DIR.
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DMP_", "DATABASE_URL", "CELERY_", "CACHE_URL"))
    }
    environ.update(DMP_ENV="development", DMP_VAR_DIR=str(tmp_path))
    migrated = run_manage(environ, "migrate", "--noinput", "-v0", timeout=300)
    assert migrated.returncode == 0, migrated.stderr

    result = run_manage(
        environ, "seed_bulk", "--patients", "3", "--no-files", "--workers", "1", timeout=300
    )

    assert result.returncode != 0
    assert "PostgreSQL" in result.stderr
    assert "scripts/testenv.py" in result.stderr
    assert "Traceback" not in result.stderr
    with sqlite3.connect(tmp_path / "db.sqlite3") as database:
        users = database.execute("SELECT count(*) FROM accounts_user").fetchone()[0]
        documents = database.execute("SELECT count(*) FROM records_document").fetchone()[0]
    assert (users, documents) == (0, 0)
