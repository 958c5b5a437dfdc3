"""Signed checkpoints of the audit chain heads (README, "Signed checkpoints").

The chains' MACs stop someone who can write to the database but lacks the HMAC key; they do not
stop a whole chain from being deleted, nor its tail and head from being cut back together, nor
someone who also holds the HMAC key from rewriting a chain. A checkpoint signs, with an Ed25519
key that is never in the database, the (chain, sequence, MAC) of every head that moved since the
previous checkpoint, and links to that previous checkpoint. ``verify_audit`` then checks that
every checkpointed event is still there with the same MAC.

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
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC

from django.db import connection, transaction
from django.utils import timezone

from access_control.models import (
    AuditChain,
    AuditCheckpoint,
    AuditCheckpointHead,
)
from dmp_portal.crypto.signing import current_key_id, sign

FORMAT_VERSION = 1
GENESIS_DIGEST = "0" * 64
HEADS_PREFIX = b"dmp-audit-heads:v1\n"
BATCH_SIZE = 5000
# pg_try_advisory_lock key ("dmpckpt" in ASCII): one checkpoint writer at a time.
WRITER_LOCK = 0x646D70636B7074

log = logging.getLogger("dmp.security")

MOVED_HEADS_SQL = """
SELECT c.id, c.last_sequence, c.last_mac
FROM access_control_auditchain c
LEFT JOIN access_control_auditcheckpointcursor k ON k.chain_id = c.id
WHERE c.last_sequence > 0 AND (k.sequence IS NULL OR k.sequence <> c.last_sequence)
ORDER BY c.id
"""
COPY_HEADS_SQL = (
    "COPY access_control_auditcheckpointhead (checkpoint_id, chain_id, sequence, mac) FROM STDIN"
)
ADVANCE_CURSOR_SQL = """
INSERT INTO access_control_auditcheckpointcursor (chain_id, sequence)
SELECT chain_id, sequence FROM access_control_auditcheckpointhead WHERE checkpoint_id = %s
ON CONFLICT (chain_id) DO UPDATE SET sequence = EXCLUDED.sequence
"""


def head_line(chain_id: int, sequence: int, mac: bytes) -> bytes:
    return f"{int(chain_id)}:{int(sequence)}:{bytes(mac).hex()}\n".encode("ascii")


def heads_hasher():
    """SHA-256 fed with HEADS_PREFIX, then one ``head_line`` per head in chain-id order."""
    return hashlib.sha256(HEADS_PREFIX)


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

    Takes no lock that audit writers take: the chain heads are read with a plain SELECT (on
    PostgreSQL, outside a caller's transaction, in one REPEATABLE READ snapshot), so a chain
    whose head is being updated by an open transaction is read as last committed; its next
    events go into the next checkpoint.
    """
    with _single_writer() as alone:
        if not alone:
            return None
        with _snapshot():
            checkpoint = _write(batch_size)
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
def _single_writer() -> Iterator[bool]:
    """A session-level advisory lock, taken before the snapshot so that it sees the previous
    checkpoint. A second writer (an overlapping beat run) gives up instead of queueing."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [WRITER_LOCK])
        alone = cursor.fetchone()[0]
    try:
        yield alone
    finally:
        if alone:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [WRITER_LOCK])


@contextmanager
def _snapshot() -> Iterator[None]:
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        with transaction.atomic():
            yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def _moved_heads(batch_size: int) -> Iterator[tuple[int, int, bytes]]:
    """(chain id, sequence, MAC) of every head that moved since it was last checkpointed."""
    with connection.chunked_cursor() as cursor:  # server-side on PostgreSQL: constant memory
        cursor.execute(MOVED_HEADS_SQL)
        while rows := cursor.fetchmany(batch_size):
            for chain_id, sequence, mac in rows:
                try:
                    yield chain_id, sequence, bytes.fromhex(mac)
                except ValueError:
                    # A head tampered with (verify_audit names it): it must not stop the
                    # checkpoints of every other chain.
                    log.warning("audit checkpoint skips chain id=%s: its head is no MAC", chain_id)


def _batches(items: Iterable, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _write(batch_size: int) -> AuditCheckpoint:
    previous = AuditCheckpoint.objects.order_by("-number").first()
    number = 1 if previous is None else previous.number + 1
    hasher, head_count = heads_hasher(), 0
    for batch in _batches(_moved_heads(batch_size), batch_size):
        for chain_id, sequence, mac in batch:
            hasher.update(head_line(chain_id, sequence, mac))
        _insert_heads(number, batch)
        head_count += len(batch)
    checkpoint = AuditCheckpoint(
        number=number,
        created_at=timezone.now(),
        format_version=FORMAT_VERSION,
        chain_count=AuditChain.objects.filter(last_sequence__gt=0).count(),
        head_count=head_count,
        heads_digest=hasher.hexdigest(),
        previous_digest=GENESIS_DIGEST if previous is None else previous.digest,
    )
    checkpoint.key_id = current_key_id()
    message = statement(checkpoint)
    checkpoint.signature = sign(message)
    checkpoint.digest = hashlib.sha256(message).hexdigest()
    checkpoint.save()
    _advance_cursor(number)
    return checkpoint


def _insert_heads(number: int, heads: list[tuple[int, int, bytes]]) -> None:
    if connection.vendor != "postgresql":
        AuditCheckpointHead.objects.bulk_create(
            AuditCheckpointHead(checkpoint_id=number, chain_id=chain_id, sequence=sequence, mac=mac)
            for chain_id, sequence, mac in heads
        )
        return
    # COPY: about ten times faster than bulk_create's model instances and INSERT statements.
    with connection.cursor() as cursor, cursor.cursor.copy(COPY_HEADS_SQL) as copy:
        for chain_id, sequence, mac in heads:
            copy.write_row((number, chain_id, sequence, mac))


def _advance_cursor(number: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(ADVANCE_CURSOR_SQL, [number])
