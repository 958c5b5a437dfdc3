"""Signed checkpoints of the audit chain heads (README, "Signed checkpoints").

The chains' MACs stop someone who can write to the database but lacks the HMAC key; they do not
stop a whole chain from being deleted, nor its tail and head from being cut back together, nor
someone who also holds the HMAC key from rewriting a chain. A checkpoint signs, with an Ed25519
key that is never in the database, the (chain, sequence, MAC) of every head that moved since the
previous checkpoint, and links to that previous checkpoint. ``verify_audit`` then checks that
every checkpointed event is still there with the same MAC.

What is signed is read only from rows the application's database role cannot change: the head
of a chain is its last event in the append-only events table (not ``AuditChain.last_sequence``,
which every audit write updates), and "moved" means its sequence differs from the latest one the
checkpoints themselves recorded for that chain (append-only, signed). No writable bookkeeping
decides what is left out, so no one with the application's role can steer a chain out of the
checkpoints: a chain is skipped only when a checkpoint head already records its last sequence,
and ``verify_audit`` checks every checkpoint head against its chain (so the event there, and
everything before it, cannot go nor change unnoticed).

Why only the heads that moved: with millions of chains, storing every head every ten minutes
would cost gigabytes a day, whereas most records are not read in a given ten minutes. The latest
head of each chain lies in the last checkpoint that saw it move, and the numbered, linked
signatures cover the whole series. What is stored is exactly what is digested and signed, so a
checkpoint is consistent whatever its reads raced with.

The serialisations below are the contract between the writer and the verifier: change them only
with a new version tag, and keep verifying the old ones.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import TYPE_CHECKING

from django.db import IntegrityError, connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from audit.models import (
    AuditChain,
    AuditCheckpoint,
    AuditCheckpointHead,
    AuditEvent,
)
from dmp_portal.crypto.signing import current_key_id, sign

if TYPE_CHECKING:
    from _hashlib import HASH

    from django.db.backends.utils import CursorWrapper

FORMAT_VERSION = 1
GENESIS_DIGEST = "0" * 64
HEADS_PREFIX = b"dmp-audit-heads:v1\n"
BATCH_SIZE = 5000
# pg_try_advisory_xact_lock key ("dmpckpt" in ASCII): one checkpoint writer at a time.
WRITER_LOCK = 0x646D70636B7074
# The primary keys that refuse a checkpoint number already written (see _writer_transaction).
NUMBER_TAKEN = frozenset(
    {"access_control_auditcheckpoint_pkey", "access_control_auditcheckpointhead_pkey"}
)
MAC_HEX_LENGTH = 64

log = logging.getLogger("dmp.security")

# One statement, set-based: for every chain, the sequence of its last event (one probe of the
# unique index on (chain, sequence), index-only once the events' pages are all-visible, as
# append-only pages soon are) and the latest sequence a checkpoint recorded for it (one probe of
# the index on (chain, checkpoint), which includes the sequence); for the chains where the two
# differ, the last event's MAC (one more probe, for those chains only), inserted as a head under
# the new checkpoint's number. Returns how many chains hold events, and how many heads were
# inserted.
#
# Sequences alone decide what moved: an event rewritten at a recorded sequence is caught by
# verify_audit, which checks every recorded head's MAC against its event. A MAC that is not 64
# hexadecimal digits (an event forged by hand) is recorded as empty bytes rather than failing
# the checkpoint of every chain: verify_audit names that chain, as the recorded MAC is not its own.
WRITE_HEADS_SQL = """
WITH actual AS (
    SELECT c.id AS chain_id,
        (SELECT max(e.sequence) FROM access_control_auditevent e WHERE e.chain_id = c.id)
            AS sequence,
        (SELECT h.sequence FROM access_control_auditcheckpointhead h
         WHERE h.chain_id = c.id AND h.checkpoint_id < %(number)s
         ORDER BY h.checkpoint_id DESC LIMIT 1) AS recorded
    FROM access_control_auditchain c
), moved AS (
    INSERT INTO access_control_auditcheckpointhead (checkpoint_id, chain_id, sequence, mac)
    SELECT %(number)s, a.chain_id, a.sequence, (
        SELECT CASE WHEN e.mac ~ '^[0-9a-f]{64}$' THEN decode(e.mac, 'hex') ELSE ''::bytea END
        FROM access_control_auditevent e
        WHERE e.chain_id = a.chain_id AND e.sequence = a.sequence
    )
    FROM actual a
    WHERE a.sequence IS NOT NULL AND a.recorded IS DISTINCT FROM a.sequence
    RETURNING 1
)
SELECT (SELECT count(*) FROM actual WHERE sequence IS NOT NULL), (SELECT count(*) FROM moved)
"""
# The plan that keeps the statement linear, whatever the statistics say: the heads table is read
# while this very statement inserts into it, and a planner that believes it empty (as on the
# first checkpoint) would scan it whole once per chain. Through the (chain, checkpoint) index the
# probes never meet the rows being inserted. JIT compilation costs more than it saves here.
PLAN_SETTINGS = {"enable_seqscan": "off", "jit": "off"}
HEADS_OF_SQL = """
SELECT chain_id, sequence, mac FROM access_control_auditcheckpointhead
WHERE checkpoint_id = %s ORDER BY chain_id
"""


def head_line(chain_id: int, sequence: int, mac: bytes | memoryview) -> bytes:
    return f"{int(chain_id)}:{int(sequence)}:{bytes(mac).hex()}\n".encode("ascii")


def heads_hasher() -> HASH:
    """SHA-256 fed with HEADS_PREFIX, then one ``head_line`` per head in chain-id order."""
    return hashlib.sha256(HEADS_PREFIX)


def mac_bytes(mac: str) -> bytes:
    """An event's hexadecimal MAC as the 32 bytes a checkpoint head stores; empty if it is not
    one (as the SQL above does)."""
    if len(mac) != MAC_HEX_LENGTH or mac.strip("0123456789abcdef"):
        return b""
    return bytes.fromhex(mac)


def statement(checkpoint: AuditCheckpoint) -> bytes:
    """The signed bytes: every field of the checkpoint but the signature and its own digest."""
    if checkpoint.format_version != FORMAT_VERSION:
        raise ValueError(f"unknown checkpoint format {checkpoint.format_version}")
    fields = {
        "v": FORMAT_VERSION,
        "number": int(checkpoint.number),
        "created_at": checkpoint.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "key_id": checkpoint.key_id,
        "chains": int(checkpoint.chain_count),
        "heads": int(checkpoint.head_count),
        "heads_digest": checkpoint.heads_digest,
        "previous": checkpoint.previous_digest,
    }
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return ("dmp-audit-checkpoint:" + text).encode("ascii")


def write_checkpoint(*, batch_size: int = BATCH_SIZE) -> AuditCheckpoint | None:
    """Sign the heads that moved since the last checkpoint; None if another writer is at it.

    Takes no lock that audit writers take: the events are read with a plain SELECT (on
    PostgreSQL, outside a caller's transaction, in one REPEATABLE READ snapshot), so an event
    whose transaction is still open is not seen; it goes into the next checkpoint.
    """
    try:
        with _writer_transaction() as alone:
            if not alone:
                return None
            checkpoint = _write(batch_size)
    except IntegrityError as exc:
        if _constraint(exc) not in NUMBER_TAKEN:
            raise
        # The one race the lock leaves (see _writer_transaction): the previous writer committed
        # this number after our snapshot was taken. Its checkpoint stands; ours is rolled back.
        log.info("audit checkpoint skipped: another writer wrote the same number")
        return None
    log.info(
        "audit checkpoint number=%s chains=%s heads=%s digest=%s key=%s",
        checkpoint.number,
        checkpoint.chain_count,
        checkpoint.head_count,
        checkpoint.digest,
        checkpoint.key_id,
    )
    return checkpoint


@contextmanager
def _writer_transaction() -> Iterator[bool]:
    """The checkpoint's transaction, holding the single-writer lock; yields False (and writes
    nothing) when another writer holds it.

    The lock is transaction-scoped (``pg_try_advisory_xact_lock``): PostgreSQL releases it at
    commit or rollback, never later, so it works behind PgBouncer in transaction mode, where
    consecutive transactions of one client may run on different server connections (a
    session-level lock could be left on a server connection another client then gets, or
    released on the wrong one). Its order inside the transaction is what makes it right:

    1. ``SET TRANSACTION ISOLATION LEVEL REPEATABLE READ`` first: PostgreSQL refuses it after
       any query of the transaction.
    2. The try-lock is that first query, so the REPEATABLE READ snapshot is taken when it starts:
       no read of this transaction comes before the lock, and once the lock is held nothing the
       snapshot sees of the checkpoints can change (only lock holders write them).
    3. A writer that finds the lock taken gives up at once. Waiting would be wrong, not merely
       slow: its snapshot is already taken, so after the first writer's commit it would still
       see the previous checkpoint and compute the same number again.

    The snapshot is taken when the lock statement starts, the lock granted while it runs: if the
    previous writer commits in between (a microsecond window), this writer holds the lock with a
    snapshot that misses that checkpoint and would reuse its number. The primary keys (the
    checkpoint's number, and (checkpoint, chain) for its heads) refuse that insert, the whole
    transaction rolls back, and ``write_checkpoint`` reports that another writer got there first:
    never two checkpoints with one number (tests/drills/test_checkpoint_writers.py).

    Inside a caller's transaction (the tests' ``transaction.atomic``) the caller's isolation is
    kept and the lock lasts until the caller's transaction ends.
    """
    if connection.vendor != "postgresql":
        with transaction.atomic():
            yield True
        return
    outer = connection.in_atomic_block
    with transaction.atomic():
        with connection.cursor() as cursor:
            if not outer:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [WRITER_LOCK])
            alone = cursor.fetchone()[0]
        yield alone


def _constraint(exc: IntegrityError) -> str | None:
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


def _write(batch_size: int) -> AuditCheckpoint:
    previous = AuditCheckpoint.objects.order_by("-number").first()
    number = 1 if previous is None else previous.number + 1
    # The heads first (the foreign key to the checkpoint is checked at commit), then their
    # digest, read back in chain order through the primary key.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor, _planner_settings(cursor):
            cursor.execute(WRITE_HEADS_SQL, {"number": number})
            chain_count, _inserted = cursor.fetchone()
    else:
        chain_count = _write_heads_portably(number)
    hasher, head_count = heads_hasher(), 0
    with connection.chunked_cursor() as cursor:  # server-side on PostgreSQL: constant memory
        cursor.execute(HEADS_OF_SQL, [number])
        while rows := cursor.fetchmany(batch_size):
            for chain_id, sequence, mac in rows:
                hasher.update(head_line(chain_id, sequence, mac))
            head_count += len(rows)
    checkpoint = AuditCheckpoint(
        number=number,
        created_at=timezone.now(),
        format_version=FORMAT_VERSION,
        chain_count=chain_count,
        head_count=head_count,
        heads_digest=hasher.hexdigest(),
        previous_digest=GENESIS_DIGEST if previous is None else previous.digest,
    )
    checkpoint.key_id = current_key_id()
    message = statement(checkpoint)
    checkpoint.signature = sign(message)
    checkpoint.digest = hashlib.sha256(message).hexdigest()
    checkpoint.save()
    return checkpoint


@contextmanager
def _planner_settings(cursor: CursorWrapper) -> Iterator[None]:
    """PLAN_SETTINGS for the statement only (the transaction may be a caller's). Set LOCAL: a
    failure rolls them back with the transaction or savepoint, hence no ``finally``."""
    previous = {}
    for name, value in PLAN_SETTINGS.items():
        cursor.execute("SELECT current_setting(%s), set_config(%s, %s, true)", [name, name, value])
        previous[name] = cursor.fetchone()[0]
    yield
    for name, value in previous.items():
        cursor.execute("SELECT set_config(%s, %s, true)", [name, value])


def _write_heads_portably(number: int) -> int:
    """WRITE_HEADS_SQL's rule for the development SQLite database, through the ORM's correlated
    subqueries, in memory (development data is small). PostgreSQL never runs this."""
    last = AuditEvent.objects.filter(chain_id=OuterRef("pk")).order_by("-sequence")
    signed = AuditCheckpointHead.objects.filter(chain_id=OuterRef("pk")).order_by("-checkpoint_id")
    chains = (
        AuditChain.objects.annotate(
            head_sequence=Subquery(last.values("sequence")[:1]),
            head_mac=Subquery(last.values("mac")[:1]),
            recorded=Subquery(signed.values("sequence")[:1]),
        )
        .filter(head_sequence__isnull=False)
        .values_list("pk", "head_sequence", "head_mac", "recorded")
    )
    moved, count = [], 0
    for chain_id, sequence, mac, recorded in chains.iterator():
        count += 1
        if sequence != recorded:
            moved.append(
                AuditCheckpointHead(
                    checkpoint_id=number, chain_id=chain_id, sequence=sequence, mac=mac_bytes(mac)
                )
            )
    AuditCheckpointHead.objects.bulk_create(moved, batch_size=BATCH_SIZE)
    return count
