"""Signed checkpoints of the audit chain heads: writing them, and what verify_audit catches."""

from __future__ import annotations

import base64
import io
import secrets
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import override_settings

from audit.checkpoints import GENESIS_DIGEST, WRITER_LOCK, write_checkpoint
from audit.models import Action, AuditChain, AuditCheckpoint, AuditCheckpointHead, Outcome
from audit.tasks import write_audit_checkpoint
from audit.trail import compute_mac, record_event
from audit.verify import verify_audit_trail
from dmp_portal.celery import app
from dmp_portal.crypto.signing import (
    encode_key,
    ensure_development_signing_key,
    key_id,
    parse_signing_key,
    public_bytes,
    reset_signing_keys,
)
from tests.accounts.factories import PractitionerProfileFactory, UserFactory
from tests.audit.factories import (
    bypassing_the_trigger,
    chain_of,
    record,
    verify,
    with_own_connection,
)


def new_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def public_of(private: str) -> str:
    return encode_key(public_bytes(parse_signing_key(private).public_key()))


def id_of(private: str) -> str:
    return key_id(parse_signing_key(private).public_key())


@contextmanager
def signing_keys(signing: str, verifying: str = "") -> Iterator[None]:
    reset_signing_keys()
    try:
        with override_settings(DMP_AUDIT_SIGNING_KEY=signing, DMP_AUDIT_VERIFY_KEYS=verifying):
            yield
    finally:
        reset_signing_keys()


def chains_only() -> bool:
    """What the chains alone say, without the checkpoints: the attack the checkpoints close."""
    return verify_audit_trail(checkpoints=False).ok


@pytest.fixture
def trail(db):
    """Five events of one patient, three of another, two on the system chain; checkpoint 1."""
    first, second = UserFactory(), UserFactory()
    doctor = PractitionerProfileFactory().user
    for _ in range(5):
        record(first, actor=doctor)
    for _ in range(3):
        record(second)
    for _ in range(2):
        with transaction.atomic():
            record_event(actor=None, patient=None, action=Action.LOGIN, outcome=Outcome.REFUSED)
    checkpoint = write_checkpoint()
    chain = AuditChain.objects.get(key=f"patient:{first.pk}")
    return {
        "patient": first,
        "events": chain_of(first),
        "key": chain.key,
        "chain": chain,
        "checkpoint": checkpoint,
    }


def errors() -> list[str]:
    code, out, err = verify()
    assert code == 1
    assert out == ""
    return err.splitlines()


# --- Writing --------------------------------------------------------------------------------


def test_a_checkpoint_signs_the_heads_that_moved_and_links_to_the_previous_one(trail):
    first = trail["checkpoint"]
    assert (first.number, first.chain_count, first.head_count) == (1, 3, 3)
    assert first.previous_digest == GENESIS_DIGEST
    assert first.key_id == id_of(settings.DMP_AUDIT_SIGNING_KEY)
    heads = {
        (head.chain_id, head.sequence, bytes(head.mac).hex())
        for head in AuditCheckpointHead.objects.filter(checkpoint=first)
    }
    assert heads == {
        (chain.pk, chain.last_sequence, chain.last_mac) for chain in AuditChain.objects.all()
    }
    assert verify() == (0, "ok chains=3 events=10 checkpoints=1 last_checkpoint=1\n", "")

    record(trail["patient"])
    second = write_checkpoint()
    assert (second.number, second.chain_count, second.head_count) == (2, 3, 1)
    assert second.previous_digest == first.digest
    [moved] = AuditCheckpointHead.objects.filter(checkpoint=second)
    assert (moved.chain_id, moved.sequence) == (trail["chain"].pk, 6)

    third = write_checkpoint()  # nothing moved: a signed heartbeat, no head
    assert (third.number, third.head_count) == (3, 0)
    assert verify() == (0, "ok chains=3 events=11 checkpoints=3 last_checkpoint=3\n", "")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE access_control_auditcheckpoint SET chain_count = 0",
        "DELETE FROM access_control_auditcheckpoint",
        "UPDATE access_control_auditcheckpointhead SET sequence = 1",
        "DELETE FROM access_control_auditcheckpointhead",
    ],
)
def test_checkpoints_are_append_only_even_in_maintenance(statement):
    record(UserFactory())
    write_checkpoint()
    refused = pytest.raises(DatabaseError, match="append-only")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL dmp.audit_maintenance = 'on'")
        cursor.execute(statement)
    assert AuditCheckpointHead.objects.filter(checkpoint_id=1, sequence=1).count() == 1
    assert AuditCheckpoint.objects.get().chain_count == 1


def test_the_beat_schedule_runs_the_checkpoint_task_every_ten_minutes():
    [entry] = [
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "audit.tasks.write_audit_checkpoint"
    ]
    assert entry["schedule"] == 600.0
    assert not entry.get("args") and not entry.get("kwargs")  # no personal data, no argument
    assert entry["task"] in app.tasks


def test_the_task_writes_a_checkpoint(trail):
    record(trail["patient"])
    result = write_audit_checkpoint.apply()
    assert result.successful()
    assert result.get() == 2
    assert AuditCheckpoint.objects.get(number=2).head_count == 1


@pytest.mark.django_db(transaction=True)
def test_a_second_writer_gives_up_while_one_is_at_work():
    record(UserFactory())
    holding, release = threading.Event(), threading.Event()

    def hold_the_writer_lock() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [WRITER_LOCK])
            holding.set()
            release.wait(timeout=60)
            cursor.execute("SELECT pg_advisory_unlock(%s)", [WRITER_LOCK])

    thread = threading.Thread(target=with_own_connection, args=(hold_the_writer_lock,))
    thread.start()
    try:
        assert holding.wait(timeout=30)
        assert write_checkpoint() is None
        assert not AuditCheckpoint.objects.exists()
    finally:
        release.set()
        thread.join(timeout=60)
    assert write_checkpoint().number == 1


def writer_lock_free() -> bool:
    """Whether another connection could take the writer lock right now (then gives it back)."""
    free: dict[str, bool] = {}

    def probe() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [WRITER_LOCK])
            free["lock"] = cursor.fetchone()[0]
            if free["lock"]:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [WRITER_LOCK])

    thread = threading.Thread(target=with_own_connection, args=(probe,))
    thread.start()
    thread.join(timeout=30)
    return free["lock"]


@pytest.mark.django_db(transaction=True)
def test_the_writer_lock_lives_and_dies_with_the_checkpoint_transaction():
    # Transaction-scoped (issue 18, item 6): held until the transaction that wrote the
    # checkpoint ends, never by the session after it, so that PgBouncer in transaction mode can
    # hand the server connection to another client.
    record(UserFactory())
    with transaction.atomic():
        assert write_checkpoint().number == 1
        assert not writer_lock_free(), "released before the checkpoint's transaction ended"
    assert writer_lock_free()
    assert write_checkpoint().number == 2
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
        assert cursor.fetchone()[0] == 0


@pytest.mark.django_db(transaction=True)
def test_a_writer_whose_snapshot_missed_the_last_checkpoint_gives_up():
    # The one race the lock leaves (audit.checkpoints._writer_transaction): the previous writer
    # commits after this writer's snapshot, before its lock. Made certain here by taking the
    # snapshot in a caller's REPEATABLE READ transaction before the other writer runs: the
    # primary keys refuse the number again, and the writer reports that it gave up.
    record(UserFactory())
    snapshot_taken, other_wrote = threading.Event(), threading.Event()
    late: dict[str, object] = {}

    def late_writer() -> None:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                cursor.execute("SELECT count(*) FROM access_control_auditcheckpoint")
            snapshot_taken.set()
            other_wrote.wait(timeout=30)
            late["result"] = write_checkpoint()
            # The caller's transaction is still usable: only the checkpoint was rolled back.
            late["seen"] = AuditCheckpoint.objects.count()

    thread = threading.Thread(target=with_own_connection, args=(late_writer,))
    thread.start()
    try:
        assert snapshot_taken.wait(timeout=30)
        assert write_checkpoint().number == 1
    finally:
        other_wrote.set()
        thread.join(timeout=60)
    assert late == {"result": None, "seen": 0}
    assert list(AuditCheckpoint.objects.values_list("number", flat=True)) == [1]
    assert verify()[0] == 0


@pytest.mark.django_db(transaction=True)
def test_a_checkpoint_does_not_wait_for_a_chain_locked_by_an_open_read() -> None:
    patient, other = UserFactory.create(), UserFactory.create()
    record(patient)
    record(other)
    holding, release = threading.Event(), threading.Event()

    def read_and_hold() -> None:
        with transaction.atomic():
            # The head row is locked and updated, the transaction still open.
            record_event(actor=patient, patient=patient, action=Action.VIEW, outcome="allowed")
            AuditChain.objects.select_for_update().get(key=f"patient:{patient.pk}")
            holding.set()
            release.wait(timeout=60)

    holder = threading.Thread(target=with_own_connection, args=(read_and_hold,))
    holder.start()
    written: dict[str, AuditCheckpoint | None] = {}
    try:
        assert holding.wait(timeout=30)
        writer = threading.Thread(
            target=with_own_connection,
            args=(lambda: written.setdefault("checkpoint", write_checkpoint()),),
        )
        writer.start()
        writer.join(timeout=10)
        assert not writer.is_alive(), "the checkpoint waited for the chain's row lock"
    finally:
        release.set()
        holder.join(timeout=60)
    checkpoint = written["checkpoint"]
    locked = AuditChain.objects.get(key=f"patient:{patient.pk}")
    # The head as last committed: the open read's event belongs to the next checkpoint.
    assert AuditCheckpointHead.objects.get(checkpoint=checkpoint, chain_id=locked.pk).sequence == 1
    assert locked.last_sequence == 2
    second = write_checkpoint()
    assert AuditCheckpointHead.objects.get(checkpoint=second, chain_id=locked.pk).sequence == 2
    assert verify()[0] == 0


# --- What the checkpoints catch -------------------------------------------------------------


def test_a_deleted_whole_chain_is_caught(trail):
    chain = trail["chain"]
    with bypassing_the_trigger() as cursor:
        cursor.execute("DELETE FROM access_control_auditevent WHERE chain_id = %s", [chain.pk])
        cursor.execute("DELETE FROM access_control_auditchain WHERE id = %s", [chain.pk])
    assert chains_only()  # the chains alone see nothing wrong
    assert errors() == [
        f"broken chain=id:{chain.pk} sequence=5 event=- checkpoint mismatch: the chain is gone; "
        "checkpoint 1 recorded it at sequence 5"
    ]


def test_a_tail_cut_with_its_head_is_caught(trail):
    events, chain = trail["events"], trail["chain"]
    with bypassing_the_trigger() as cursor:
        cursor.execute(
            "DELETE FROM access_control_auditevent WHERE id IN (%s, %s)",
            [events[3].pk, events[4].pk],
        )
        cursor.execute(
            "UPDATE access_control_auditchain SET last_sequence = 3, last_mac = %s WHERE id = %s",
            [events[2].mac, chain.pk],
        )
    assert chains_only()
    assert errors() == [
        f"broken chain={trail['key']} sequence=5 event=- checkpoint mismatch: sequence 5 absent, "
        "recorded by checkpoint 1"
    ]


def test_a_chain_rewritten_with_valid_macs_is_caught(trail):
    """Someone holding the HMAC key (not the signing key) rewrites an event and every MAC after."""
    events, key = trail["events"], trail["key"]
    events[1].reason = "rewritten"
    previous = events[0].mac
    with bypassing_the_trigger() as cursor:
        for event in events[1:]:
            event.previous_mac = previous
            event.mac = previous = compute_mac(event, key)
            cursor.execute(
                "UPDATE access_control_auditevent SET reason = %s, previous_mac = %s, mac = %s "
                "WHERE id = %s",
                [event.reason, event.previous_mac, event.mac, event.pk],
            )
        cursor.execute(
            "UPDATE access_control_auditchain SET last_mac = %s WHERE key = %s", [previous, key]
        )
    assert chains_only()
    assert errors() == [
        f"broken chain={key} sequence=5 event={events[4].pk} checkpoint mismatch: its MAC is not "
        "the one checkpoint 1 recorded"
    ]


BAD_SIGNATURE = "broken checkpoint=1 bad signature: its signature does not verify (key id {})"
LAST_HEAD = "chain_id = (SELECT max(chain_id) FROM access_control_auditcheckpointhead)"


@pytest.mark.parametrize(
    ("statement", "params", "line"),
    [
        (
            "UPDATE access_control_auditcheckpoint SET signature = %s",
            [secrets.token_bytes(64)],
            BAD_SIGNATURE,
        ),
        ("UPDATE access_control_auditcheckpoint SET chain_count = 2", None, BAD_SIGNATURE),
        (
            "UPDATE access_control_auditcheckpoint SET digest = %s",
            ["e" * 64],
            "broken checkpoint=1 edited: its stored digest is not its statement's",
        ),
        (
            f"UPDATE access_control_auditcheckpointhead SET mac = %s WHERE {LAST_HEAD}",
            [secrets.token_bytes(32)],
            "broken checkpoint=1 heads mismatch: its 3 stored heads do not match the 3 it signed",
        ),
        (
            f"DELETE FROM access_control_auditcheckpointhead WHERE {LAST_HEAD}",
            None,
            "broken checkpoint=1 heads mismatch: its 2 stored heads do not match the 3 it signed",
        ),
    ],
)
def test_a_checkpoint_tampered_with_is_caught(trail, statement, params, line):
    with bypassing_the_trigger() as cursor:
        cursor.execute(statement, params)
    lines = errors()
    # Checkpoint problems come after chain problems (a forged head MAC names its chain too).
    assert lines[-1] == line.format(trail["checkpoint"].key_id)
    assert len(lines) == (2 if "SET mac" in statement else 1)


def test_a_deleted_checkpoint_is_caught(trail):
    for _ in range(3):
        record(trail["patient"])
        write_checkpoint()
    with bypassing_the_trigger() as cursor:
        for table in ("access_control_auditcheckpointhead", "access_control_auditcheckpoint"):
            column = "checkpoint_id" if table.endswith("head") else "number"
            cursor.execute(f"DELETE FROM {table} WHERE {column} IN (2, 3)")  # noqa: S608
    assert errors() == [
        "broken checkpoint=2-3 missing: checkpoint 2-3 absent; the next is checkpoint 4"
    ]


def test_a_deleted_last_checkpoint_is_caught_by_the_last_number_seen(trail):
    record(trail["patient"])
    write_checkpoint()
    with bypassing_the_trigger() as cursor:
        cursor.execute("DELETE FROM access_control_auditcheckpointhead WHERE checkpoint_id = 2")
        cursor.execute("DELETE FROM access_control_auditcheckpoint WHERE number = 2")
    assert verify()[0] == 0  # nothing in the database tells...
    code, _, err = verify_with("--min-checkpoint", "2")  # ...but the number logged does
    assert code == 1
    assert "missing checkpoints: the last is 1, at least 2 was expected" in err


def verify_with(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


# --- Keys -----------------------------------------------------------------------------------


def test_a_checkpoint_signed_by_an_unknown_key_is_refused(db):
    record(UserFactory())
    forger = new_key()
    with signing_keys(forger):
        write_checkpoint()  # as someone with database access and a key of their own would
    assert errors() == [
        f"broken checkpoint=1 unknown key: key id {id_of(forger)} is not one of the "
        "verification keys"
    ]


def test_a_retired_key_in_the_verify_list_still_verifies(db):
    patient = UserFactory()
    old, new = new_key(), new_key()
    with signing_keys(old):
        record(patient)
        first = write_checkpoint()
    with signing_keys(new):
        assert errors()[0].startswith("broken checkpoint=1 unknown key")  # retired, not listed
    with signing_keys(new, verifying=public_of(old)):
        record(patient)
        second = write_checkpoint()
        assert verify()[0] == 0
    assert (first.key_id, second.key_id) == (id_of(old), id_of(new))


def test_without_the_private_key_nothing_is_signed_but_the_public_key_verifies(db):
    """Web and the verifier run without the signing key (only the worker has it)."""
    patient = UserFactory()
    signer = new_key()
    with signing_keys(signer):
        record(patient)
        write_checkpoint()
    with signing_keys("", verifying=public_of(signer)):
        assert verify()[0] == 0
        record(patient)
        with pytest.raises(ImproperlyConfigured, match="DMP_AUDIT_SIGNING_KEY"):
            write_checkpoint()
        assert AuditCheckpoint.objects.count() == 1


def test_development_keeps_one_private_signing_key(tmp_path):
    created = ensure_development_signing_key(tmp_path / "keys")
    assert ensure_development_signing_key(tmp_path / "keys") == created
    assert len(base64.urlsafe_b64decode(created + "=" * (-len(created) % 4))) == 32
    mode = (tmp_path / "keys" / "audit_signing_key").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600
    parse_signing_key(created)
