"""Production's database roles, as shipped: the application's role cannot undo the audit trail.

On the suite's PostgreSQL (whose ``dmp`` role is a superuser, as an attacker who reached the
database administrator would be, and as the old docker-compose ran the portal): a fresh database,
the owner and application roles created by the shipped script itself
(``deploy/postgres/initdb-roles.sh``, as the postgres container runs it), ``manage.py migrate``
as the owner, then the portal's own code as the application role, and every way to disable,
empty or alter the audit tables tried as that role, each of which must fail.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
INIT_SCRIPT = ROOT / "deploy" / "postgres" / "initdb-roles.sh"
AUDIT_TABLES = (
    "access_control_auditevent",
    "access_control_auditcheckpoint",
    "access_control_auditcheckpointhead",
)
EVENT = "access_control_auditevent"
HEAD = "access_control_auditcheckpointhead"

WRITE_AN_EVENT_AND_A_CHECKPOINT = """
from django.db import transaction
from audit.trail import record_event
from audit.checkpoints import write_checkpoint
with transaction.atomic():
    record_event(actor=None, patient=None, action="login", outcome="refused")
print(write_checkpoint().number)
"""


class Cluster:
    """The suite's PostgreSQL server, reached as its superuser."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.hostname is None or parts.username is None:
            raise ValueError("DATABASE_URL must name the server's host and superuser")
        self.host, self.port = parts.hostname, parts.port or 5432
        self.superuser = parts.username

    def url(self, role: str, password: str, database: str) -> str:
        return f"postgres://{role}:{password}@{self.host}:{self.port}/{database}"

    def connect(self, role: str, database: str) -> psycopg.Connection:
        # The suite's server trusts loopback connections: the role is enough.
        return psycopg.connect(
            host=self.host, port=self.port, user=role, dbname=database, autocommit=True
        )


@contextmanager
def deployed(folder: Path, *, adopting: bool = False) -> Iterator[dict[str, Any]]:
    """A database set up as docker-compose sets one up, dropped (with its roles) afterwards.

    ``adopting``: as an existing deployment would be, migrated by the superuser first (what the
    old docker-compose did), the roles script then run on it by hand.
    """
    cluster = Cluster(os.environ["DATABASE_URL"])
    suffix = secrets.token_hex(4)
    database, owner, app = f"dmp_roles_{suffix}", f"dmp_owner_{suffix}", f"dmp_app_{suffix}"
    urls = {}
    for name, role in (("database_url", app), ("database_migrate_url", owner)):
        urls[name] = cluster.url(role, secrets.token_urlsafe(24), database)
        (folder / name).write_text(urls[name] + "\n")
    admin = cluster.connect(cluster.superuser, "postgres")
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    try:
        if adopting:
            manage(
                "migrate", "--noinput", database_url=cluster.url(cluster.superuser, "-", database)
            )
        subprocess.run(
            ["sh", str(INIT_SCRIPT)],
            env={
                **os.environ,
                "PGHOST": cluster.host,
                "PGPORT": str(cluster.port),
                "PGUSER": cluster.superuser,
                "PGDATABASE": database,
                "DMP_APP_URL_FILE": str(folder / "database_url"),
                "DMP_OWNER_URL_FILE": str(folder / "database_migrate_url"),
            },
            check=True,
            capture_output=True,
            text=True,
        )
        manage("migrate", "--noinput", database_url=urls["database_migrate_url"])
        yield {"cluster": cluster, "database": database, "owner": owner, "app": app, **urls}
    finally:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
        )
        for role in (app, owner):
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
        admin.close()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory) -> Iterator[dict[str, Any]]:
    with deployed(tmp_path_factory.mktemp("secrets")) as found:
        yield found


def count_rows(connection: psycopg.Connection, table: str) -> int:
    row = connection.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
    assert row is not None  # count(*) always answers one row
    return row[0]


def manage(*args: str, database_url: str) -> subprocess.CompletedProcess:
    """``manage.py`` in its own process, connected with ``database_url``."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def as_app(deployment) -> Iterator[psycopg.Connection]:
    """The application's role, after the portal itself wrote an event and a checkpoint."""
    written = manage(
        "shell",
        "-v",
        "0",
        "-c",
        WRITE_AN_EVENT_AND_A_CHECKPOINT,
        database_url=deployment["database_url"],
    )
    assert written.stdout.split() == ["1"]
    with deployment["cluster"].connect(deployment["app"], deployment["database"]) as connection:
        yield connection


def test_the_application_role_is_no_superuser_and_owns_nothing(deployment, as_app):
    roles = dict(
        as_app.execute(
            "SELECT rolname, (rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls "
            "OR rolreplication) FROM pg_roles WHERE rolname IN (%s, %s)",
            [deployment["app"], deployment["owner"]],
        ).fetchall()
    )
    assert roles == {deployment["app"]: False, deployment["owner"]: False}
    owners = dict(
        as_app.execute(
            "SELECT tableowner, count(*) FROM pg_tables WHERE schemaname = 'public' "
            "GROUP BY tableowner"
        ).fetchall()
    )
    assert set(owners) == {deployment["owner"]}, "every table belongs to the owner role"
    assert owners[deployment["owner"]] > 20
    owned = as_app.execute(
        "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
        "WHERE r.rolname = %s",
        [deployment["app"]],
    ).fetchone()[0]
    assert owned == 0


@pytest.mark.parametrize(
    "statement",
    [
        f"ALTER TABLE {EVENT} DISABLE TRIGGER ALL",
        f"ALTER TABLE {EVENT} DISABLE TRIGGER access_control_auditevent_no_change",
        f"DROP TRIGGER access_control_auditevent_no_change ON {EVENT}",
        f"TRUNCATE {EVENT}",
        f"ALTER TABLE {EVENT} ADD COLUMN note text",
        f"ALTER TABLE {EVENT} DROP CONSTRAINT auditevent_chain_sequence",
        f"DROP TABLE {EVENT}",
        f"UPDATE {EVENT} SET reason = 'rewritten'",
        f"DELETE FROM {EVENT}",
        "DROP FUNCTION access_control_auditevent_append_only() CASCADE",
        "SET session_replication_role = replica",
        *(f"ALTER TABLE {table} DISABLE TRIGGER USER" for table in AUDIT_TABLES[1:]),
        *(f"TRUNCATE {table}" for table in AUDIT_TABLES[1:]),
        "UPDATE access_control_auditcheckpoint SET chain_count = 0",
        "DELETE FROM access_control_auditcheckpointhead",
        "CREATE TABLE public.mine (id int)",
    ],
)
def test_the_application_role_cannot_undo_the_audit_trail(deployment, as_app, statement):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_app.execute(statement)
    counts = [count_rows(as_app, table) for table in AUDIT_TABLES]
    assert counts == [1, 1, 1], "the event, the checkpoint and its head are all still there"
    assert as_app.execute(f"SELECT reason FROM {EVENT}").fetchone()[0] == ""  # noqa: S608
    triggers = as_app.execute(
        "SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal "
        "AND tgenabled = 'O'",
        [EVENT],
    ).fetchone()[0]
    assert triggers == 2


def test_the_portal_runs_on_the_application_role(deployment, as_app):
    """What web, worker and beat do works without owning anything: the audit writer, the
    checkpoint writer (above, in the fixture), the verifier, ordinary tables."""
    verified = manage("verify_audit", database_url=deployment["database_url"])
    assert verified.stdout == "ok chains=1 events=1 checkpoints=1 last_checkpoint=1\n"
    with as_app.transaction():
        as_app.execute(
            "INSERT INTO django_session (session_key, session_data, expire_date) "
            "VALUES ('k', 'd', now())"
        )
        as_app.execute("UPDATE django_session SET session_data = 'e'")
        as_app.execute("DELETE FROM django_session")


def test_the_script_hands_an_existing_database_over_to_the_two_roles(tmp_path):
    """A deployment of the old docker-compose: every table created by the superuser. Run by hand
    (README, Database roles), the same script gives the tables and functions to the owner role
    and the application role the same rights as on a new database."""
    with deployed(tmp_path, adopting=True) as adopted:
        cluster, database = adopted["cluster"], adopted["database"]
        with cluster.connect(adopted["app"], database) as as_app:
            owners = as_app.execute(
                "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
            assert owners == [(adopted["owner"],)]
            functions = as_app.execute(
                "SELECT DISTINCT pg_get_userbyid(p.proowner) FROM pg_proc p "
                "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'"
            ).fetchall()
            assert functions == [(adopted["owner"],)]
            for statement in (
                f"ALTER TABLE {EVENT} DISABLE TRIGGER ALL",
                f"UPDATE {EVENT} SET reason = 'rewritten'",
                f"TRUNCATE {HEAD}",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    as_app.execute(statement)
            as_app.execute("INSERT INTO django_session VALUES ('k', 'd', now())")
            assert count_rows(as_app, "django_session") == 1


PURGE_A_CLOSED_RECORD = """
import io
from datetime import timedelta
from django.core.management import call_command
from django.utils import timezone
from access_control.models import RecordClosure
from accounts.models import User
from accounts.services.keys import ensure_data_key
from records.models import Category
from records.services import upload_document
patient = User.objects.create_user("purged-on-the-app-role", None, kind="patient")
ensure_data_key(patient)
patient.refresh_from_db()
upload_document(patient, patient, title="t", category=Category.objects.first(),
                act_date=timezone.localdate(), upload=io.BytesIO(b"text"))
RecordClosure.objects.create(patient=patient, reason="patient",
                             archive_until=timezone.localdate() - timedelta(days=1))
call_command("purge_records")
"""


def test_the_purge_runs_on_the_application_role(deployment, as_app):
    """purge_records (issue 16) deletes and blanks ordinary rows and appends to the trail, which
    the application role may do: it never needs to edit or delete an audit row. Last in the
    module: the tests above count the one event and checkpoint the fixture wrote."""
    purged = manage("shell", "-c", PURGE_A_CLOSED_RECORD, database_url=deployment["database_url"])
    assert purged.stdout.splitlines()[-1] == "purged=1 failed=0"
    verified = manage("verify_audit", database_url=deployment["database_url"])
    assert verified.stdout.startswith("ok chains=2 events=3 ")
