"""Recompute every audit chain and name the first broken event of each (``manage.py verify_audit``).

Two streams are read in step, in constant memory: the chain heads ordered by id, and the events
ordered by (chain, sequence), which the unique index on (chain, sequence) serves. In each chain the
sequences must run 1, 2, 3... without a gap, each event's MAC must recompute from its fields and
the preceding MAC, and the head must hold the last event's sequence and MAC (the only way to notice
a deleted tail). On PostgreSQL, outside a transaction, everything is read in one REPEATABLE READ
snapshot, so that events appended while the check runs do not look like a broken head.

Then the signed checkpoints (``access_control.checkpoints``): numbered from 1 without a gap, each
linked to the one before, signed by a known key, its stored heads matching its signed digest; and
every head a checkpoint recorded must still be in its chain, same sequence, same MAC. That is what
catches a chain deleted whole, cut back with its head, or rewritten by someone holding the HMAC
key but not the signing key.

Last, each chain's events against the latest head the checkpoints recorded for it (a third
stream, in step with the chains): an event written more than ``COVERAGE_GRACE`` before the last
validly signed checkpoint must be at or below that head, or no checkpoint covers it, which only
a writer kept from seeing the chain (or an event back-dated by hand) explains. Nothing here
trusts ``AuditChain.last_sequence`` alone, which the application's database role can rewrite.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby
from operator import attrgetter, itemgetter

from django.db import connection, transaction

from access_control.audit import compute_mac
from access_control.checkpoints import GENESIS_DIGEST, head_line, heads_hasher, statement
from access_control.models import (
    GENESIS_MAC,
    REGISTRY_CHAIN_PREFIX,
    SYSTEM_CHAIN_KEY,
    AuditChain,
    AuditCheckpoint,
    AuditCheckpointHead,
    AuditEvent,
    patient_chain_key,
)
from dmp_portal.crypto.signing import verify as verify_signature

EDITED = "edited"
MISSING = "missing"
REORDERED = "reordered"
HEAD_MISMATCH = "head mismatch"
CHECKPOINT_MISMATCH = "checkpoint mismatch"
# What can be wrong with a checkpoint itself.
UNKNOWN_KEY = "unknown key"
BAD_SIGNATURE = "bad signature"
BAD_DIGEST = "edited"
BAD_HEADS = "heads mismatch"
BAD_LINK = "broken link"

# The checkpointed heads whose event is gone or carries another MAC.
CHECKPOINTED_HEADS_SQL = """
SELECT h.chain_id, h.checkpoint_id, h.sequence, c.key, e.id
FROM access_control_auditcheckpointhead h
LEFT JOIN access_control_auditchain c ON c.id = h.chain_id
LEFT JOIN access_control_auditevent e ON e.chain_id = h.chain_id AND e.sequence = h.sequence
WHERE e.id IS NULL OR e.mac <> {mac_hex}
ORDER BY h.chain_id, h.checkpoint_id
"""

DEFAULT_CHUNK_SIZE = 2000
# An audit event's transaction commits, and a checkpoint reads its snapshot, well within this:
# an event older than that at the last checkpoint was committed before it, so it must be covered.
COVERAGE_GRACE = timedelta(minutes=15)
# How far from its place a moved event is looked for (one MAC per candidate, on failure only).
REORDER_WINDOW = 1000


@dataclass(frozen=True)
class Break:
    """The first thing wrong in one chain."""

    chain_key: str
    sequence: int | None
    event_id: int | None
    kind: str
    detail: str

    def __str__(self) -> str:
        sequence = "-" if self.sequence is None else self.sequence
        event = "-" if self.event_id is None else self.event_id
        return (
            f"broken chain={self.chain_key} sequence={sequence} event={event} "
            f"{self.kind}: {self.detail}"
        )


@dataclass(frozen=True)
class CheckpointBreak:
    """What is wrong with one checkpoint, or with a run of absent ones."""

    number: str
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"broken checkpoint={self.number} {self.kind}: {self.detail}"


@dataclass
class VerificationResult:
    chains: int = 0
    events: int = 0
    broken_chains: int = 0
    # The first break of each broken chain, in chain order, up to max_reported of them.
    breaks: list[Break] = field(default_factory=list)
    checkpoints: int = 0
    last_checkpoint: int = 0
    broken_checkpoints: int = 0
    checkpoint_breaks: list[CheckpointBreak] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.broken_chains == 0 and self.broken_checkpoints == 0


def verify_audit_trail(
    *, chunk_size: int = DEFAULT_CHUNK_SIZE, max_reported: int = 100, checkpoints: bool = True
) -> VerificationResult:
    """Every chain, then (unless ``checkpoints`` is False) the signed checkpoints."""
    with _consistent_snapshot():
        verifier = _Verifier(max_reported)
        if checkpoints:
            verifier.cover_from_checkpoints()
        verifier.run(chunk_size)
        if checkpoints:
            verifier.check_checkpoints(chunk_size)
        return verifier.result


@contextmanager
def _consistent_snapshot() -> Iterator[None]:
    connection = transaction.get_connection()
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        # Inside a caller's transaction the isolation level can no longer be chosen.
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


class _Verifier:
    def __init__(self, max_reported: int) -> None:
        self.max_reported = max_reported
        self.result = VerificationResult()
        # Ids of the chains already reported: one line per chain, its first problem.
        self.reported: set[int] = set()
        # Events written before this must lie within their chain's latest recorded head.
        self.covered_before: datetime | None = None
        self.covering_checkpoint = 0
        self.recorded: Iterator[tuple[int, int]] = iter(())
        self.next_recorded: tuple[int, int] | None = None

    def cover_from_checkpoints(self) -> None:
        """Take the last checkpoint whose signature verifies as the coverage reference (a forged
        one is reported by ``check_checkpoints``, and must not move the reference)."""
        for checkpoint in AuditCheckpoint.objects.order_by("-number").iterator(chunk_size=10):
            try:
                valid = verify_signature(
                    statement(checkpoint), bytes(checkpoint.signature), checkpoint.key_id
                )
            except ValueError:
                valid = False
            if valid:
                self.covered_before = checkpoint.created_at - COVERAGE_GRACE
                self.covering_checkpoint = checkpoint.number
                break
        if self.covered_before is None:
            return
        # The latest recorded head of each chain, in chain order (the index on (chain,
        # checkpoint) serves it), restricted to signed checkpoints up to the reference.
        heads = (
            AuditCheckpointHead.objects.filter(checkpoint_id__lte=self.covering_checkpoint)
            .order_by("chain_id", "-checkpoint_id")
            .values_list("chain_id", "sequence")
            .iterator(chunk_size=DEFAULT_CHUNK_SIZE)
        )
        self.recorded = (next(group) for _, group in groupby(heads, key=itemgetter(0)))
        self.next_recorded = next(self.recorded, None)

    def _recorded_sequence(self, chain_id: int) -> int:
        """The latest sequence the checkpoints recorded for this chain (0: none)."""
        while self.next_recorded is not None and self.next_recorded[0] < chain_id:
            self.next_recorded = next(self.recorded, None)
        if self.next_recorded is not None and self.next_recorded[0] == chain_id:
            return self.next_recorded[1]
        return 0

    def run(self, chunk_size: int) -> VerificationResult:
        chains = AuditChain.objects.order_by("pk").iterator(chunk_size=chunk_size)
        events = AuditEvent.objects.order_by("chain_id", "sequence").iterator(chunk_size=chunk_size)
        chain = next(chains, None)
        for chain_id, chain_events in groupby(events, key=attrgetter("chain_id")):
            while chain is not None and chain.pk < chain_id:
                self._check_chain(chain, ())  # a head whose events are all gone
                chain = next(chains, None)
            if chain is not None and chain.pk == chain_id:
                self._check_chain(chain, chain_events, self._recorded_sequence(chain_id))
                chain = next(chains, None)
            else:
                self._check_orphans(chain_id, chain_events)
        while chain is not None:
            self._check_chain(chain, ())
            chain = next(chains, None)
        return self.result

    def _report(self, found: Break, chain_id: int) -> None:
        if chain_id in self.reported:
            return
        self.reported.add(chain_id)
        self.result.broken_chains += 1
        if len(self.result.breaks) < self.max_reported:
            self.result.breaks.append(found)

    def _check_chain(
        self, chain: AuditChain, events: Iterable[AuditEvent], recorded: int = 0
    ) -> None:
        self.result.chains += 1
        expected_key = (
            SYSTEM_CHAIN_KEY if chain.patient_id is None else patient_chain_key(chain.patient_id)
        )
        if chain.patient_id is None and _is_registry_key(chain.key):
            expected_key = chain.key  # a registry person's chain: no record, no patient
        found = None
        if chain.key != expected_key:
            found = Break(chain.key, None, None, HEAD_MISMATCH, f"its patient says {expected_key}")
        expected_sequence, expected_previous, last = 1, GENESIS_MAC, None
        for event in events:
            self.result.events += 1
            if found is None:  # after the first break, only count the rest of the chain
                found = self._check_event(chain, event, expected_sequence, expected_previous)
                if found is None and event.sequence == recorded + 1:
                    found = self._check_covered(chain, event)
                expected_sequence, expected_previous, last = event.sequence + 1, event.mac, event
        if found is None:
            found = self._check_head(chain, expected_sequence - 1, expected_previous, last)
        if found is not None:
            self._report(found, chain.pk)

    def _check_event(
        self, chain: AuditChain, event: AuditEvent, expected_sequence: int, expected_previous: str
    ) -> Break | None:
        sequence = event.sequence

        def broken(kind: str, detail: str) -> Break:
            return Break(chain.key, sequence, event.pk, kind, detail)

        if sequence > expected_sequence:
            absent = (
                f"{expected_sequence}"
                if sequence == expected_sequence + 1
                else f"{expected_sequence}-{sequence - 1}"
            )
            return Break(
                chain.key,
                expected_sequence,
                None,
                MISSING,
                f"sequence {absent} absent; "
                f"the next event is sequence {sequence} (event {event.pk})",
            )
        if sequence < expected_sequence:
            return broken(REORDERED, f"sequence {expected_sequence} was expected")
        if sequence > chain.last_sequence:
            return broken(HEAD_MISMATCH, f"beyond the chain head (sequence {chain.last_sequence})")
        if compute_mac(event, chain.key) != event.mac:
            written_as = self._written_as(chain, event)
            if written_as is not None:
                return broken(REORDERED, f"it was written as sequence {written_as}")
            return broken(EDITED, "its MAC does not match its fields")
        if event.previous_mac != expected_previous:
            return broken(REORDERED, "it does not follow the preceding event")
        return None

    def _check_covered(self, chain: AuditChain, event: AuditEvent) -> Break | None:
        """The first event after the chain's latest recorded head (times never go backwards
        within a chain, so it is the oldest one left out)."""
        if self.covered_before is None or event.occurred_at >= self.covered_before:
            return None
        return Break(
            chain.key,
            event.sequence,
            event.pk,
            CHECKPOINT_MISMATCH,
            f"no checkpoint recorded it, though it was written before checkpoint "
            f"{self.covering_checkpoint}",
        )

    def _written_as(self, chain: AuditChain, event: AuditEvent) -> int | None:
        """The sequence under which an intact event was written, if it was moved nearby."""
        if len(self.result.breaks) >= self.max_reported:
            return None  # not reported anyway: spare the MACs
        for distance in range(1, REORDER_WINDOW + 1):
            for candidate in (event.sequence - distance, event.sequence + distance):
                if (
                    candidate >= 1
                    and compute_mac(event, chain.key, sequence=candidate) == event.mac
                ):
                    return candidate
        return None

    def _check_head(
        self, chain: AuditChain, last_sequence: int, last_mac: str, last: AuditEvent | None
    ) -> Break | None:
        last_event = "none is present" if last is None else f"the last is event {last.pk}"
        if chain.last_sequence > last_sequence:
            absent = last_sequence + 1
            span = (
                f"{absent}" if absent == chain.last_sequence else f"{absent}-{chain.last_sequence}"
            )
            return Break(
                chain.key,
                absent,
                None,
                MISSING,
                f"sequence {span} absent: the chain head records {chain.last_sequence} events, "
                f"{last_event}",
            )
        if chain.last_mac != last_mac:
            return Break(
                chain.key,
                chain.last_sequence,
                None if last is None else last.pk,
                HEAD_MISMATCH,
                "the chain head's MAC is not the last event's",
            )
        return None

    def _check_orphans(self, chain_id: int, events: Iterable[AuditEvent]) -> None:
        """Events whose chain head is gone (only possible with the database's checks bypassed)."""
        first = None
        for event in events:
            self.result.events += 1
            first = first or event
        assert first is not None  # groupby never yields an empty group
        self._report(
            Break(
                f"id:{chain_id}",
                first.sequence,
                first.pk,
                HEAD_MISMATCH,
                "no chain head holds these events",
            ),
            chain_id,
        )

    # --- Signed checkpoints ------------------------------------------------------------------

    def check_checkpoints(self, chunk_size: int) -> None:
        """The checkpoints' own integrity, then every checkpointed head against its chain."""
        checkpoints = AuditCheckpoint.objects.order_by("number").iterator(chunk_size=chunk_size)
        heads = (
            AuditCheckpointHead.objects.order_by("checkpoint_id", "chain_id")
            .values_list("checkpoint_id", "chain_id", "sequence", "mac")
            .iterator(chunk_size=chunk_size)
        )
        head_groups = groupby(heads, key=lambda row: row[0])
        group = next(head_groups, None)
        previous: AuditCheckpoint | None = None
        for checkpoint in checkpoints:
            self.result.checkpoints += 1
            self.result.last_checkpoint = checkpoint.number
            # Heads whose checkpoint is gone: the gap below names it, unless it was the last.
            while group is not None and group[0] < checkpoint.number:
                group = next(head_groups, None)
            own = group is not None and group[0] == checkpoint.number
            expected = 1 if previous is None else previous.number + 1
            if checkpoint.number > expected:
                absent = (
                    f"{expected}"
                    if checkpoint.number == expected + 1
                    else f"{expected}-{checkpoint.number - 1}"
                )
                self._report_checkpoint(
                    CheckpointBreak(
                        absent,
                        MISSING,
                        f"checkpoint {absent} absent; the next is checkpoint {checkpoint.number}",
                    )
                )
            found = self._check_checkpoint(checkpoint, group[1] if own else (), previous)
            if found is not None:
                self._report_checkpoint(found)
            if own:  # only now: advancing groupby drops the rest of the current group
                group = next(head_groups, None)
            previous = checkpoint
        if group is not None:
            self._report_checkpoint(
                CheckpointBreak(
                    str(group[0]),
                    MISSING,
                    f"checkpoint {group[0]} is absent but its heads remain "
                    f"(the last checkpoint is {self.result.last_checkpoint or 'none'})",
                )
            )
        self._check_checkpointed_heads()

    def _report_checkpoint(self, found: CheckpointBreak) -> None:
        self.result.broken_checkpoints += 1
        if len(self.result.checkpoint_breaks) < self.max_reported:
            self.result.checkpoint_breaks.append(found)

    def _check_checkpoint(
        self,
        checkpoint: AuditCheckpoint,
        rows: Iterable[tuple[int, int, int, bytes]],
        previous: AuditCheckpoint | None,
    ) -> CheckpointBreak | None:
        hasher, count = heads_hasher(), 0
        for _, chain_id, sequence, mac in rows:
            hasher.update(head_line(chain_id, sequence, mac))
            count += 1

        def broken(kind: str, detail: str) -> CheckpointBreak:
            return CheckpointBreak(str(checkpoint.number), kind, detail)

        try:
            message = statement(checkpoint)
        except ValueError as exc:
            return broken(BAD_DIGEST, str(exc))
        valid = verify_signature(message, bytes(checkpoint.signature), checkpoint.key_id)
        if valid is None:
            return broken(
                UNKNOWN_KEY, f"key id {checkpoint.key_id} is not one of the verification keys"
            )
        if not valid:
            return broken(
                BAD_SIGNATURE, f"its signature does not verify (key id {checkpoint.key_id})"
            )
        if hashlib.sha256(message).hexdigest() != checkpoint.digest:
            return broken(BAD_DIGEST, "its stored digest is not its statement's")
        if count != checkpoint.head_count or hasher.hexdigest() != checkpoint.heads_digest:
            return broken(
                BAD_HEADS,
                f"its {count} stored heads do not match the {checkpoint.head_count} it signed",
            )
        if previous is None and checkpoint.number == 1:
            expected_previous = GENESIS_DIGEST
        elif previous is not None and previous.number == checkpoint.number - 1:
            expected_previous = previous.digest
        else:
            return None  # the checkpoint before is absent: reported as such
        if checkpoint.previous_digest != expected_previous:
            return broken(
                BAD_LINK, f"it does not follow checkpoint {checkpoint.number - 1} as signed"
            )
        return None

    def _check_checkpointed_heads(self) -> None:
        """Every (chain, sequence, MAC) a checkpoint recorded must still be in the chain.

        The unique index on (chain, sequence) serves the join; only mismatches come back, the
        earliest checkpoint first for each chain.
        """
        with connection.cursor() as cursor:
            cursor.execute(
                CHECKPOINTED_HEADS_SQL.format(
                    mac_hex="encode(h.mac, 'hex')"
                    if connection.vendor == "postgresql"
                    else "lower(hex(h.mac))"
                )
            )
            for chain_id, number, sequence, key, event_id in cursor:
                if key is None:
                    found = Break(
                        f"id:{chain_id}",
                        sequence,
                        None,
                        CHECKPOINT_MISMATCH,
                        f"the chain is gone; checkpoint {number} recorded it at sequence "
                        f"{sequence}",
                    )
                elif event_id is None:
                    found = Break(
                        key,
                        sequence,
                        None,
                        CHECKPOINT_MISMATCH,
                        f"sequence {sequence} absent, recorded by checkpoint {number}",
                    )
                else:
                    found = Break(
                        key,
                        sequence,
                        event_id,
                        CHECKPOINT_MISMATCH,
                        f"its MAC is not the one checkpoint {number} recorded",
                    )
                self._report(found, chain_id)


def _is_registry_key(key: str) -> bool:
    prefix, _sep, number = key.partition(REGISTRY_CHAIN_PREFIX)
    return not prefix and number.isdigit()
