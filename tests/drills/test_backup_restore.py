"""Drill (issue 18, item 3): backup, destroy, restore, verify.

A small world is built through the real services and pages: people enrolled by post (their
letters rendered and stored), documents uploaded through the upload page, an audit trail with a
signed checkpoint, one record purged (its key destroyed, so the ledger of destroyed keys holds a
line) and another closed. ``manage.py backup`` takes it. Then the closed record is purged: the
backup still holds its key, which only the ledger now says is destroyed. The instance is
destroyed: the restore reads neither the database nor the media it came from, but a new, empty
database on the same throwaway PostgreSQL and a new, empty storage (a fresh folder, or with
DMP_TEST_STORAGE=s3 a fresh bucket). ``manage.py restore`` runs as a separate process, as an
operator would run it. Verified: every hash checked, ``verify_audit`` passes, every document and
letter reads back byte for byte, both purged records' keys are destroyed, every table has its
rows, and the next ``purge_records`` completes the purge the restore took back.

Run: python3 scripts/testenv.py -- .venv/bin/python -m pytest -q -s -p no:cacheprovider \\
    --drills tests/drills/test_backup_restore.py
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import boto3
import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from accounts.models import User
from accounts.services.keys import ensure_data_key
from audit.checkpoints import write_checkpoint
from bench.world import build_pdf
from tests.access_control.closure_records import close_record
from tests.accounts.factories import UserFactory, logged_in_client
from tests.drills.readback import DESTROYED, destroyed_keys, plaintext_hashes, row_counts
from tests.drills.report import Drill
from tests.enrollment.factories import enrol_by_post, make_beneficiary, make_nir
from tests.filesystems import LEFT_FREE, fill, tmpfs
from tests.records.factories import pdf_upload
from tests.storage_backends import ON_S3

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 300  # seconds, for each command run as a process


def upload_through_the_page(patient: User, count: int) -> None:
    browser = logged_in_client(patient)
    for number in range(count):
        content = build_pdf([b"(drill %s %d)" % (str(patient.pk).encode(), number)])
        fields = {"title": f"Compte rendu {number}", "category": "imagerie"}
        answer = browser.post("/records/upload/", {**fields, "file": pdf_upload(content=content)})
        assert answer.status_code == 302, answer.content[:300]


def close_long_ago(patient: User) -> None:
    """The record closed eleven years ago: its archive period has ended."""
    long_ago = timezone.now() - timedelta(days=11 * 366)
    close_record(patient, closed_at=long_ago, archive_until=timezone.localdate() - timedelta(1))


def purge(patient: User) -> None:
    out = StringIO()
    call_command("purge_records", "--account", str(patient.pk), stdout=out)
    assert f"purged account={patient.pk}" in out.getvalue()


def database_url(name: str) -> str:
    """The suite's server (its superuser) with another database: the restore's target."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{name}"))


def admin(sql: str) -> None:
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"] or None,
        dbname="postgres", autocommit=True,
    ) as server:  # fmt: skip
        server.execute(sql)


def fresh_bucket() -> dict[str, str]:
    """A new, empty bucket on the test S3 server: the restored instance's storage."""
    bucket = f"dmp-restore-{secrets.token_hex(4)}"
    boto3.client(
        "s3",
        endpoint_url=os.environ["DMP_S3_ENDPOINT_URL"],
        aws_access_key_id=os.environ["DMP_S3_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["DMP_S3_SECRET_ACCESS_KEY"],
        region_name=os.environ.get("DMP_S3_REGION", "us-east-1"),
    ).create_bucket(Bucket=bucket)
    return {"DMP_S3_BUCKET": bucket}


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


@pytest.mark.django_db(transaction=True)  # committed: pg_dump and other processes see it
@pytest.mark.parametrize("restore_as", ["superuser", "owner-role"])
def test_backup_destroy_restore_verify(tmp_path, settings, restore_as):
    """``owner-role``: as in production (README, Database roles), the new database is prepared
    by the shipped roles script, the restore runs as the owner and the service reads as the
    application role; ``superuser``: the suite's own role, as on a developer's machine."""
    drill = Drill(f"backup-restore ({restore_as})")
    ledger = tmp_path / "ledger" / "destroyed-keys.log"
    settings.DMP_SHRED_LEDGER_PATH = str(ledger)
    run_drill(drill, tmp_path, ledger, restore_as)


def run_drill(drill: Drill, tmp_path: Path, ledger: Path, restore_as: str) -> None:
    # --- The world ----------------------------------------------------------------------------
    enrolled = [
        enrol_by_post(make_beneficiary(nir=make_nir(sex="2"), last_name=name, first_name="Léa"))
        for name in ("Aubertin", "Berthelot", "Carrière")
    ]
    _staying, purged_later, purged_before = enrolled
    own = UserFactory.create(kind="patient")
    ensure_data_key(own)
    for patient in (*enrolled, own):
        upload_through_the_page(patient, 3)
    close_long_ago(purged_before)
    purge(purged_before)
    # Closed before the backup, as a record is years before its purge; purged after it.
    close_long_ago(purged_later)
    assert write_checkpoint() is not None
    before = plaintext_hashes()
    rows = row_counts()
    documents = sum(1 for label in before if label.startswith("document:"))
    letters = len(before) - documents
    drill.injected(
        f"a world: {len(enrolled)} people enrolled by post and 1 more, {documents} documents "
        f"and {letters} letters stored, {rows['access_control_auditevent']} audit events, a "
        f"signed checkpoint, one record purged (ledger: 1 line); storage "
        f"{'S3' if ON_S3 else 'local disk'}"
    )

    # --- Backup -------------------------------------------------------------------------------
    outdir = tmp_path / "backup"
    started = time.monotonic()
    out = StringIO()
    call_command("backup", str(outdir), stdout=out, stderr=StringIO())
    backup_seconds = time.monotonic() - started
    manifest = json.loads((outdir / "manifest.json").read_text())
    drill.injected(f"backup taken in {backup_seconds:.1f} s: {out.getvalue().strip()}")
    assert len(manifest["files"]) == sum(1 for h in before.values() if h != DESTROYED)
    assert manifest["missing_files"] == []

    # After the backup, a second record is purged: the backup still holds its key.
    assert purged_later.data_key is not None
    later_key = str(purged_later.data_key.uid)
    purge(purged_later)
    assert len(ledger.read_text().splitlines()) == 2
    drill.injected("after the backup, the record closed before it purged (ledger: 2 lines)")

    if restore_as == "superuser" and not ON_S3:
        restore_stopped_half_way(drill, tmp_path, outdir, ledger, later_key)

    # --- Destroy ------------------------------------------------------------------------------
    target = f"drill_restore_{secrets.token_hex(4)}"
    admin(f'CREATE DATABASE "{target}"')
    env = {
        **os.environ,
        "DATABASE_URL": database_url(target),
        "MEDIA_ROOT": str(tmp_path / "media-restored"),
        "DMP_SHRED_LEDGER_PATH": str(ledger),
    }
    if ON_S3:
        env |= fresh_bucket()
    roles = None
    try:
        if restore_as == "owner-role":
            roles = prepare_roles(target, tmp_path)
            env["DATABASE_URL"] = roles["owner_url"]
        drill.injected(
            f"instance destroyed: the restore goes to a new, empty database ({target}, as "
            f"{restore_as}) and a new, empty storage "
            f"({env.get('DMP_S3_BUCKET') or env['MEDIA_ROOT']})"
        )
        seconds = restore(drill, outdir, env)
        if roles is not None:
            check_roles(drill, target, tmp_path, roles)
            env["DATABASE_URL"] = roles["app_url"]  # web, worker and beat read as the app role
        verify_restored(drill, env, before, rows, later_key)
        purge_again(drill, env, purged_later)
    finally:
        admin(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
        for role in (roles or {}).get("names", ()):
            admin(f'DROP ROLE IF EXISTS "{role}"')
    files_bytes = sum(entry["bytes"] for entry in manifest["files"])
    drill.verified(
        f"timing: backup {backup_seconds:.1f} s, restore {seconds:.1f} s (wall, Django's start "
        f"included; {manifest['database']['bytes']} bytes of dump, {files_bytes} of files)"
    )
    drill.done()


def restore_stopped_half_way(
    drill: Drill, tmp_path: Path, outdir: Path, ledger: Path, later_key: str
) -> None:
    """A restore whose files cannot be put back (its storage, a small tmpfs, is full): it says
    not to open the service, and the ledger was replayed before it stopped, so the key destroyed
    after the backup is destroyed there too."""
    target = f"drill_halfway_{secrets.token_hex(4)}"
    admin(f'CREATE DATABASE "{target}"')
    with tmpfs(tmp_path / "media-full") as media:
        fill(media, LEFT_FREE)  # less room than the backup's files need
        env = {
            **os.environ,
            "DATABASE_URL": database_url(target),
            "MEDIA_ROOT": str(media),
            "DMP_SHRED_LEDGER_PATH": str(ledger),
        }
        try:
            drill.injected("a restore whose storage is full (a tmpfs with 32 KiB left)")
            stopped = manage(env, "restore", str(outdir))
            assert stopped.returncode == 1, stopped.stderr[-3000:]
            assert "n'ouvrez pas le service" in stopped.stderr, stopped.stderr[-3000:]
            assert "remise des fichiers" in stopped.stderr, stopped.stderr[-3000:]
            destroyed = manage(
                env, "shell", "-c",
                "from tests.drills.readback import destroyed_keys; print(*destroyed_keys())",
            )  # fmt: skip
            assert destroyed.returncode == 0, destroyed.stderr[-3000:]
            assert later_key in destroyed.stdout.split()
            drill.verified(
                "the restore stopped while putting the files back says not to open the "
                "service, and the key destroyed after the backup was already destroyed again "
                "(the ledger replayed first)"
            )
        finally:
            admin(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')


def prepare_roles(target: str, folder: Path) -> dict:
    """The owner and application roles, made by the shipped script on the new database."""
    suffix = secrets.token_hex(4)
    names = (f"dmp_owner_{suffix}", f"dmp_app_{suffix}")
    urls = {}
    for key, role in zip(("owner_url", "app_url"), names, strict=True):
        parts = urlsplit(database_url(target))
        password = secrets.token_urlsafe(24)
        netloc = f"{role}:{password}@{parts.hostname}:{parts.port}"
        urls[key] = urlunsplit(parts._replace(netloc=netloc))
        (folder / key).write_text(urls[key] + "\n")
    run_roles_script(target, folder)
    return {**urls, "names": names, "owner": names[0], "app": names[1]}


def run_roles_script(target: str, folder: Path) -> None:
    db = connection.settings_dict
    subprocess.run(
        ["sh", str(ROOT / "deploy" / "postgres" / "initdb-roles.sh")],
        env={
            **os.environ,
            "PGHOST": db["HOST"],
            "PGPORT": str(db["PORT"]),
            "PGUSER": db["USER"],
            "PGPASSWORD": db["PASSWORD"] or "",
            "PGDATABASE": target,
            "DMP_APP_URL_FILE": str(folder / "app_url"),
            "DMP_OWNER_URL_FILE": str(folder / "owner_url"),
        },
        check=True,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def privilege(target: str, role: str, table: str, kind: str) -> bool:
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"] or None,
        dbname=target, autocommit=True,
    ) as server:  # fmt: skip
        row = server.execute("SELECT has_table_privilege(%s, %s, %s)", (role, table, kind))
        return bool((row.fetchone() or (False,))[0])


def owners(target: str) -> set[str]:
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"] or None,
        dbname=target, autocommit=True,
    ) as server:  # fmt: skip
        rows = server.execute(
            "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'"
        )
        return {owner for (owner,) in rows.fetchall()}


def check_roles(drill: Drill, target: str, folder: Path, roles: dict) -> None:
    assert owners(target) == {roles["owner"]}
    audit = "access_control_auditevent"
    # The restore took back what the default privileges gave the application role on the
    # append-only tables; the roles script, run again, changes nothing.
    assert not privilege(target, roles["app"], audit, "UPDATE")
    assert not privilege(target, roles["app"], audit, "DELETE")
    run_roles_script(target, folder)
    assert not privilege(target, roles["app"], audit, "UPDATE")
    assert not privilege(target, roles["app"], audit, "DELETE")
    assert privilege(target, roles["app"], audit, "INSERT")
    assert privilege(target, roles["app"], "records_document", "UPDATE")
    drill.verified(
        "every table owned by the owner role; right after the restore the application role has "
        "INSERT and SELECT only on the audit tables (read and write on the others), and still "
        "after the roles script ran again"
    )


def purge_again(drill: Drill, env: dict[str, str], patient: User) -> None:
    """The record purged after the backup came back closed and not purged, its key destroyed:
    the next purge (daily, by the beat) completes it."""
    purged = manage(env, "purge_records")
    assert purged.returncode == 0, purged.stderr[-3000:]
    assert purged.stdout.splitlines() == [f"purged account={patient.pk}", "purged=1 failed=0"]
    drill.verified("purge_records on the restored instance purges again the record purged after")


def restore(drill: Drill, outdir: Path, env: dict[str, str]) -> float:
    started = time.monotonic()
    restored = manage(env, "restore", str(outdir))
    seconds = time.monotonic() - started
    assert restored.returncode == 0, restored.stderr[-3000:]
    lines = restored.stdout.splitlines()
    assert "replayed=1 already=1 unknown=0" in lines, lines
    assert any(line.startswith("ok chains=") for line in lines), lines
    drill.verified(f"restore in {seconds:.1f} s: every hash checked; " + "; ".join(lines))
    drill.verified("the ledger replayed: the key destroyed after the backup is destroyed again")
    return seconds


def verify_restored(drill: Drill, env: dict[str, str], before, rows, later_key) -> None:
    audit = manage(env, "verify_audit")
    assert audit.returncode == 0, audit.stderr
    drill.verified(f"verify_audit on the restored database: {audit.stdout.strip()}")

    read = manage(env, "shell", "-c", "from tests.drills.readback import main; main()")
    assert read.returncode == 0, read.stderr[-3000:]
    after = json.loads(read.stdout.strip().splitlines()[-1])
    assert set(after["files"]) == set(before)
    # Everything reads back as it was, but the files of the record purged after the backup.
    changed = sorted(label for label in before if before[label] != after["files"][label])
    readable = [label for label, digest in after["files"].items() if digest != DESTROYED]
    for label in readable:
        assert after["files"][label] == before[label], label
    assert changed and all(after["files"][label] == DESTROYED for label in changed)
    drill.verified(
        f"{len(readable)} documents and letters read back byte for byte (decrypted, SHA-256 "
        f"equal to what was stored); {len(changed)} of the record purged after the backup no "
        "longer open"
    )
    assert later_key in after["destroyed"]
    assert set(destroyed_keys()) <= set(after["destroyed"])
    drill.verified(f"both purged records' keys are destroyed ({len(after['destroyed'])} in all)")
    assert after["rows"] == rows, {
        table: (rows.get(table), after["rows"].get(table))
        for table in set(rows) | set(after["rows"])
        if rows.get(table) != after["rows"].get(table)
    }
    drill.verified(f"row counts equal in all {len(rows)} tables ({sum(rows.values())} rows)")
