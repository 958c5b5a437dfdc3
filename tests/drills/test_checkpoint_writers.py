"""Drill: two workers write audit checkpoints at the same moment, again and again, while audit
events are written between. One checkpoint per round at most, never two with the same number,
the numbers consecutive, and ``verify_audit`` passes (issue 18, items 2 and 6).

The writers are two real processes (``write_checkpoint`` as the beat task runs it), released at
the same wall-clock instant each round; the lock they contend for is the transaction-scoped
advisory lock of ``audit.checkpoints._writer_transaction``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from audit.models import Action, AuditCheckpoint, Outcome
from audit.trail import record_event
from tests.accounts.factories import UserFactory
from tests.drills.report import Drill, wait_until
from tests.drills.serving import free_port
from tests.processes import ROOT

ROUNDS = 40
ROUND_SECONDS = 0.5  # wide enough for a checkpoint of this small trail, and for the events

# Each writer: wait for the round's instant, write a checkpoint, print what it got (a number, or
# null when it gave up) and whether it gave up on the primary key (the race the lock leaves)
# rather than on the lock, one JSON line per round.
WRITER = """
import json, logging, sys, time
import django
django.setup()
from audit.checkpoints import write_checkpoint
raced = []
class Raced(logging.Handler):
    def emit(self, record):
        raced.append("another writer" in record.getMessage())
logging.getLogger("dmp.security").addHandler(Raced())
start, rounds, period = float(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
for index in range(rounds):
    time.sleep(max(0.0, start + index * period - time.time()))
    raced.clear()
    checkpoint = write_checkpoint()
    number = None if checkpoint is None else checkpoint.number
    print(json.dumps([index, number, any(raced)]), flush=True)
"""


def database_url(port: int | None = None) -> str:
    """The test database (pytest-django's ``test_`` copy), not the one DATABASE_URL names;
    through ``port`` (PgBouncer) when given."""
    db = connection.settings_dict
    password = db["PASSWORD"] or ""
    return f"postgres://{db['USER']}:{password}@{db['HOST']}:{port or db['PORT']}/{db['NAME']}"


def view(patient) -> None:
    with transaction.atomic():
        record_event(actor=patient, patient=patient, action=Action.VIEW, outcome=Outcome.ALLOWED)


PGBOUNCER_INI = """\
[databases]
* = host={host} port={port} user={user}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen}
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = 3
max_client_conn = 20
; the suite's connections ask for its maintenance setting (dmp_portal/settings, TESTING)
ignore_startup_parameters = options,extra_float_digits
logfile = {folder}/pgbouncer.log
pidfile = {folder}/pgbouncer.pid
"""


@pytest.fixture
def pgbouncer() -> Iterator[int]:
    """PgBouncer in transaction mode on a free loopback port, in front of the test database:
    consecutive transactions of one client may run on different server connections. Skipped
    when PgBouncer is not installed (Debian: pgbouncer), unless DMP_TEST_REQUIRE_PGBOUNCER=1."""
    program = shutil.which("pgbouncer", path=f"{os.environ.get('PATH', '')}:/usr/sbin")
    if not program:
        if os.environ.get("DMP_TEST_REQUIRE_PGBOUNCER") == "1":
            pytest.fail("PgBouncer is missing (apt-get install pgbouncer)")
        pytest.skip("PgBouncer is not installed (apt-get install pgbouncer)")
    db = connection.settings_dict
    listen = free_port()
    folder = Path(tempfile.mkdtemp(prefix="dmp-pgbouncer-"))
    folder.chmod(0o755)  # PgBouncer refuses to run as root: it runs as PostgreSQL's user
    user = os.environ.get("DMP_TEST_PG_OS_USER", "")
    if user:
        shutil.chown(folder, user)
    ini = folder / "pgbouncer.ini"
    ini.write_text(
        PGBOUNCER_INI.format(
            host=db["HOST"], port=db["PORT"], user=db["USER"], listen=listen, folder=folder
        )
    )
    command = [program, str(ini)]
    if user:
        command = ["runuser", "-u", user, "--", *command]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:

        def answers() -> bool:
            if process.poll() is not None:
                log = folder / "pgbouncer.log"
                raise AssertionError(f"pgbouncer exited: {log.read_text() if log.exists() else ''}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", listen), 1):
                return True
            return False

        wait_until(answers, timeout=30, what="PgBouncer listening")
        yield listen
    finally:
        process.terminate()
        process.wait(timeout=20)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.django_db(transaction=True)
def test_two_checkpoint_writers_at_once():
    two_writers(Drill("checkpoint-writers"), database_url(), "PostgreSQL")


@pytest.mark.django_db(transaction=True)
def test_two_checkpoint_writers_behind_pgbouncer_in_transaction_mode(pgbouncer):
    # Item 6: a session-level lock taken and released in two transactions may be taken on one
    # server connection and "released" on another (pg_advisory_unlock warns and returns false):
    # left held on the first, every later writer gives up, and checkpoints stop. The lock is
    # transaction-scoped, so it never outlives the transaction, whichever connection ran it.
    two_writers(
        Drill("checkpoint-writers-pgbouncer"),
        database_url(pgbouncer),
        "PgBouncer (pool_mode=transaction, 3 server connections)",
        DATABASE_TRANSACTION_POOLING="true",  # as README, Deployment, asks behind PgBouncer
    )


def two_writers(drill: Drill, url: str, through: str, **extra_env: str) -> None:
    patients = UserFactory.create_batch(5)
    for patient in patients:
        view(patient)
    start = time.time() + 6  # both processes imported Django and connected by then
    command = [sys.executable, "-c", WRITER, str(start), str(ROUNDS), str(ROUND_SECONDS)]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dmp_portal.settings",
        "DATABASE_URL": url,
        **extra_env,
    }
    writers = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    drill.injected(
        f"2 writer processes call write_checkpoint() at the same instant through {through}, "
        f"{ROUNDS} rounds {ROUND_SECONDS} s apart, audit events written between the rounds"
    )
    try:
        # Between the rounds' instants, move a few chains so that checkpoints have heads to sign.
        round_index = 0
        while round_index < ROUNDS:
            time.sleep(max(0.0, start + (round_index + 0.5) * ROUND_SECONDS - time.time()))
            for patient in patients[round_index % 3 :]:
                view(patient)
            round_index += 1
        wait_until(
            lambda: all(writer.poll() is not None for writer in writers),
            timeout=60,
            what="both checkpoint writers to finish their rounds",
        )
    finally:
        for writer in writers:
            if writer.poll() is None:
                writer.kill()
    outputs = [writer.communicate() for writer in writers]
    for writer, (_out, err) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, err.decode(errors="replace")
    results = [[json.loads(line) for line in out.decode().splitlines()] for out, _err in outputs]

    numbers = [number for lines in results for _index, number, _raced in lines if number]
    both = sum(
        1
        for (_i, first, _r), (_j, second, _s) in zip(*results, strict=True)
        if first is not None and second is not None
    )
    gave_up = sum(1 for lines in results for _index, number, _raced in lines if number is None)
    raced = sum(1 for lines in results for _index, _number, race in lines if race)
    assert len(numbers) == len(set(numbers)), f"a number written twice: {sorted(numbers)}"
    stored = list(AuditCheckpoint.objects.order_by("number").values_list("number", flat=True))
    assert stored == sorted(numbers), (stored, sorted(numbers))
    assert stored == list(range(1, len(stored) + 1)), f"numbers not consecutive: {stored}"
    idle = [
        index
        for (index, first, _r), (_j, second, _s) in zip(*results, strict=True)
        if first is None and second is None
    ]
    assert not idle, f"rounds without a checkpoint (a lock left held?): {idle}"
    drill.verified(
        f"{len(stored)} checkpoints numbered 1..{len(stored)}, none twice; {gave_up} attempts "
        f"gave up, {gave_up - raced} on the lock and {raced} on the number's primary key (the "
        f"previous writer committed between the snapshot and the lock); {both} rounds where "
        "both wrote, one after the other"
    )
    # The lock, not the primary key, keeps the writers apart: without it nearly every give-up
    # is a collision on the number, after a whole checkpoint's work.
    assert raced <= ROUNDS // 4, f"{raced} of {gave_up} give-ups collided on the number"
    output = StringIO()
    call_command("verify_audit", stdout=output)
    drill.verified(f"verify_audit passes: {output.getvalue().strip().splitlines()[-1]}")
    drill.done()
