"""The cost of one audit write: record_event's statements and rows per second, old and new.

    N=2000 .venv/bin/python scripts/testenv.py -- .venv/bin/python bench/audit_write_bench.py

On the throwaway PostgreSQL of testenv (durable: synchronous_commit as configured, never off).
Each event is written in its own transaction, as a read records it. Two writers of the same
record_event, run in turns in the same process: « old », the event's INSERT then the head's
UPDATE (the code before issue 20, item 3, kept here only), and « new », the one statement of
``audit.trail._append``. Each writes N events on one chain, then N events spread over 200
chains; the statements per event on an existing chain are counted with CaptureQueriesContext.
verify_audit runs at the end over everything both wrote.
"""

from __future__ import annotations

import io
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dmp_portal.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import User, UserKind  # noqa: E402
from audit import trail  # noqa: E402
from audit.models import Action, AuditChain, AuditEvent, Outcome  # noqa: E402

MANY = 200
WRITERS = ("old", "new")


def old_append(event: AuditEvent, chain: AuditChain) -> None:
    """The write before issue 20, item 3: two statements, two round trips."""
    event.save()
    AuditChain.objects.filter(pk=chain.pk).update(last_sequence=event.sequence, last_mac=event.mac)


NEW_APPEND = trail._append


@contextmanager
def writer(name: str):
    trail._append = old_append if name == "old" else NEW_APPEND
    try:
        yield
    finally:
        trail._append = NEW_APPEND


def patients(prefix: str, count: int) -> list[User]:
    return User.objects.bulk_create(
        [
            User(username=f"{prefix}{i}", email=f"{prefix}{i}@example.fr", kind=UserKind.PATIENT)
            for i in range(count)
        ]
    )


def write(patient: User) -> None:
    with transaction.atomic():
        trail.record_event(
            actor=patient, patient=patient, action=Action.VIEW, outcome=Outcome.ALLOWED
        )


def rate(targets: list[User], count: int) -> float:
    start = time.perf_counter()
    for i in range(count):
        write(targets[i % len(targets)])
    return count / (time.perf_counter() - start)


def statements(target: User) -> int:
    with CaptureQueriesContext(connection) as queries:
        write(target)
    return len(queries.captured_queries)


def measure(count: int, groups: dict[str, tuple[list[User], list[User]]]) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        (sync,) = cursor.fetchone()
        cursor.execute("SHOW fsync")
        (fsync,) = cursor.fetchone()
    results: dict[str, dict[str, float]] = {"old": {}, "new": {}}
    # Warm-up, then old and new in turns so that both see the same cache and table sizes.
    for name in results:
        with writer(name):
            rate(groups[name][0], 100)
    for label, index in (("one chain", 0), (f"{MANY} chains", 1)):
        for name in results:
            with writer(name):
                results[name][label] = rate(groups[name][index], count)
    for name in results:
        with writer(name):
            results[name]["statements"] = statements(groups[name][0][0])
    print(f"fsync = {fsync}, synchronous_commit = {sync}; N = {count} events per run")
    print(f"{'writer':8s} {'one chain ev/s':>15s} {f'{MANY} chains ev/s':>17s} {'statements':>11s}")
    for name, row in results.items():
        print(
            f"{name:8s} {row['one chain']:15.0f} {row[f'{MANY} chains']:17.0f} "
            f"{row['statements']:11.0f}"
        )
    for label in ("one chain", f"{MANY} chains"):
        print(f"new / old, {label}: {results['new'][label] / results['old'][label]:.2f}")


def main() -> None:
    if os.environ.get("DMP_ENV") != "test":
        raise SystemExit("run it through scripts/testenv.py (see the docstring)")
    count = int(os.environ.get("N", "2000"))
    call_command("migrate", verbosity=0)
    groups = {name: (patients(f"{name}one", 1), patients(f"{name}many", MANY)) for name in WRITERS}
    # Every chain created first (its first event), so that only appends to a head are timed.
    for one, many in groups.values():
        for patient in one + many:
            write(patient)
    print("statements: per event on an existing chain, BEGIN and COMMIT included")
    # testenv's throwaway server trades durability for speed; then the production settings,
    # where every commit waits for its WAL on disk (this throwaway cluster only).
    measure(count, groups)
    with connection.cursor() as cursor:
        cursor.execute("ALTER SYSTEM SET fsync = on")
        cursor.execute("SELECT pg_reload_conf()")
        cursor.execute("SET synchronous_commit = on")
    time.sleep(1)
    measure(count, groups)
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    print("verify_audit:", out.getvalue().strip())


if __name__ == "__main__":
    main()
