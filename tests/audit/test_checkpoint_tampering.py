"""The checkpoints against someone holding the application's database role.

That role updates the chain heads (every audit write does) and inserts into the append-only
tables. For each table the checkpoint writer or the verifier reads that this role can write, an
attacker tampers with it to steer a chain out of the checkpoints; then, as an insider who also
reached a superuser, cuts the chain's tail (and rewinds its head, so that the chain alone looks
whole). ``verify_audit`` must still fail, naming the chain.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.checkpoints import write_checkpoint
from audit.models import AuditChain, AuditCheckpoint, AuditCheckpointHead, AuditEvent
from audit.verify import COVERAGE_GRACE, verify_audit_trail
from tests.accounts.factories import UserFactory
from tests.audit.factories import bypassing_the_trigger, chain_of, record, verify

CHAIN = "access_control_auditchain"
EVENT = "access_control_auditevent"
CHECKPOINT = "access_control_auditcheckpoint"
HEAD = "access_control_auditcheckpointhead"


@pytest.fixture
def trail(db):
    """Five events of one patient and one of another; checkpoint 1; then three more events of
    the first patient, not yet checkpointed."""
    patient, other = UserFactory(), UserFactory()
    for _ in range(5):
        record(patient)
    record(other)
    write_checkpoint()
    for _ in range(3):
        record(patient)
    events = chain_of(patient)
    return {"patient": patient, "events": events, "chain": events[0].chain, "other": other}


# --- How the application's role could steer a chain out of the checkpoints -------------------


def lower_the_chain_head(trail) -> None:
    """The head row back to what checkpoint 1 recorded: the chain looks as if it never moved."""
    fifth = trail["events"][4]
    AuditChain.objects.filter(pk=trail["chain"].pk).update(last_sequence=5, last_mac=fifth.mac)


def forge_a_far_event(trail) -> None:
    """An event far beyond the head: later events would stay below the chain's highest one."""
    AuditEvent(
        chain=trail["chain"],
        sequence=1000,
        actor_role="anonymous",
        action="view",
        outcome="allowed",
        previous_mac="0" * 64,
        mac=secrets.token_hex(32),
    ).save()


def forge_a_checkpoint_head(trail) -> None:
    """A checkpoint of one's own (unsigned) that claims the chain's current head as recorded."""
    last = trail["events"][-1]
    with transaction.atomic():
        number = AuditCheckpoint.objects.order_by("-number")[0].number + 1
        AuditCheckpointHead.objects.create(
            checkpoint_id=number,
            chain_id=trail["chain"].pk,
            sequence=last.sequence,
            mac=bytes.fromhex(last.mac),
        )
        AuditCheckpoint.objects.create(
            number=number,
            created_at=timezone.now(),
            format_version=1,
            key_id="0" * 16,
            chain_count=2,
            head_count=1,
            heads_digest="0" * 64,
            previous_digest="0" * 64,
            digest="0" * 64,
            signature=secrets.token_bytes(64),
        )


STEERS: dict[str, Callable] = {
    CHAIN: lower_the_chain_head,
    EVENT: forge_a_far_event,
    CHECKPOINT: forge_a_checkpoint_head,
    HEAD: forge_a_checkpoint_head,
}


def cut_the_tail(trail) -> None:
    """As a superuser: the last two events gone, the head rewound onto the one before."""
    events = trail["events"]
    with bypassing_the_trigger() as cursor:
        cursor.execute(
            f"DELETE FROM {EVENT} WHERE id IN (%s, %s)",  # noqa: S608
            [events[6].pk, events[7].pk],
        )
        cursor.execute(
            f"UPDATE {CHAIN} SET last_sequence = 6, last_mac = %s WHERE id = %s",  # noqa: S608
            [events[5].mac, trail["chain"].pk],
        )


def tables_read(function: Callable) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = {name for (name,) in cursor.fetchall()}
    with CaptureQueriesContext(connection) as queries:
        function()
    words = {word for query in queries for word in re.findall(r"\w+", query["sql"])}
    return words & tables


def append_only_tables() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE NOT t.tgisinternal AND p.proname LIKE '%%append_only'"
        )
        return {name for (name,) in cursor.fetchall()}


# --- Tests ----------------------------------------------------------------------------------


def test_every_table_the_writer_and_verifier_read_is_append_only_or_tested_here(trail):
    """No writable bookkeeping (such as a cursor of what was last checkpointed) decides what a
    checkpoint leaves out: what they read is the append-only trail, and the chain heads."""
    read = tables_read(write_checkpoint) | tables_read(verify_audit_trail)
    assert read == {CHAIN, EVENT, CHECKPOINT, HEAD}
    assert read - append_only_tables() == {CHAIN}
    assert read <= set(STEERS)


@pytest.mark.parametrize("table", sorted(STEERS))
def test_a_chain_steered_out_of_the_checkpoints_and_cut_is_caught(trail, table):
    STEERS[table](trail)
    write_checkpoint()
    cut_the_tail(trail)

    code, out, err = verify()
    assert (code, out) == (1, "")
    key = trail["chain"].key
    assert any(line.startswith(f"broken chain={key} ") for line in err.splitlines()), err


def test_a_lowered_chain_head_does_not_hide_the_events_from_the_next_checkpoint(trail):
    lower_the_chain_head(trail)
    checkpoint = write_checkpoint()
    head = AuditCheckpointHead.objects.get(checkpoint=checkpoint)
    last = trail["events"][-1]
    assert (head.chain_id, head.sequence, bytes(head.mac).hex()) == (
        trail["chain"].pk,
        8,
        last.mac,
    )
    cut_the_tail(trail)
    code, _, err = verify()
    assert code == 1
    assert err.splitlines() == [
        f"broken chain={trail['chain'].key} sequence=8 event=- checkpoint mismatch: "
        "sequence 8 absent, recorded by checkpoint 2"
    ]


def test_an_event_with_a_forged_mac_does_not_stop_the_checkpoints_of_other_chains(trail):
    AuditEvent(
        chain=trail["chain"],
        sequence=9,
        actor_role="anonymous",
        action="view",
        outcome="allowed",
        previous_mac=trail["events"][-1].mac,
        mac="not a mac",
    ).save()
    record(trail["other"])
    checkpoint = write_checkpoint()
    heads = {
        head.chain_id: (head.sequence, bytes(head.mac))
        for head in AuditCheckpointHead.objects.filter(checkpoint=checkpoint)
    }
    other = AuditChain.objects.get(key=f"patient:{trail['other'].pk}")
    assert heads[other.pk][0] == 2
    assert heads[trail["chain"].pk] == (9, b"")  # recorded as no MAC, which verify names
    assert write_checkpoint().head_count == 0  # and not recorded again and again
    code, _, err = verify()
    assert code == 1
    assert err.splitlines()[0].startswith(f"broken chain={trail['chain'].key} sequence=9 ")


def test_events_older_than_the_last_checkpoint_yet_in_none_are_named(trail):
    """What a writer kept from seeing a chain leaves behind (or an event back-dated)."""
    write_checkpoint()  # the trail's events are covered
    patient = trail["patient"]
    with time_machine.travel(timezone.now() - COVERAGE_GRACE - timedelta(minutes=1)):
        late = record(patient)
    code, _, err = verify()
    assert code == 1
    assert err.splitlines() == [
        f"broken chain=patient:{patient.pk} sequence=9 event={late.pk} checkpoint mismatch: "
        "no checkpoint recorded it, though it was written before checkpoint 2"
    ]
    write_checkpoint()
    assert verify()[0] == 0


def test_recent_events_not_yet_checkpointed_are_not_a_break(trail):
    with time_machine.travel(timezone.now() - COVERAGE_GRACE + timedelta(minutes=1)):
        record(trail["patient"])
    assert verify()[0] == 0


@pytest.mark.parametrize(
    "statement",
    [
        f"DELETE FROM {CHAIN} WHERE id = %s",
        f"UPDATE {CHAIN} SET id = id + 1000000 WHERE id = %s",
    ],
)
def test_a_chain_holding_events_cannot_leave_the_chains_the_writer_reads(trail, statement):
    """The writer walks the chains table (which the application's role may write) to find each
    chain's events: the events' foreign key keeps every chain that holds one in it."""
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, [trail["chain"].pk])
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # as the commit would check it
    assert AuditChain.objects.filter(pk=trail["chain"].pk).exists()
