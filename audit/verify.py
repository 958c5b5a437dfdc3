"""Recompute every audit chain and name the first broken event of each (``manage.py verify_audit``).

Two streams are read in step, in constant memory: the chain heads ordered by id, and the events
ordered by (chain, sequence), which the unique index on (chain, sequence) serves. In each chain the
sequences must run 1, 2, 3... without a gap, each event's MAC must recompute from its fields and
the preceding MAC, and the head must hold the last event's sequence and MAC (the only way to notice
a deleted tail). On PostgreSQL, outside a transaction, everything is read in one REPEATABLE READ
snapshot, so that events appended while the check runs do not look like a broken head.

Then the signed checkpoints (``audit.checkpoint_verify``): numbered from 1 without a
gap, each linked to the one before, signed by a known key, its stored heads matching its signed
digest; and every head a checkpoint recorded must still be in its chain, same sequence, same
MAC. That is what catches a chain deleted whole, cut back with its head, or rewritten by someone
holding the HMAC key but not the signing key.

Along the way, each chain's events against the latest head the checkpoints recorded for it (a
third stream, in step with the chains): an event written more than ``COVERAGE_GRACE`` before the
last validly signed checkpoint must be at or below that head, or no checkpoint covers it, which
only a writer kept from seeing the chain (or an event back-dated by hand) explains. Nothing here
trusts ``AuditChain.last_sequence`` alone, which the application's database role can rewrite.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import groupby
from operator import attrgetter

from django.db import transaction

from audit.checkpoint_verify import COVERAGE_GRACE, CheckpointChecks
from audit.findings import (
    EDITED,
    HEAD_MISMATCH,
    MISSING,
    REORDERED,
    Break,
    CheckpointBreak,
    VerificationResult,
)
from audit.models import (
    GENESIS_MAC,
    REGISTRY_CHAIN_PREFIX,
    SYSTEM_CHAIN_KEY,
    AuditChain,
    AuditEvent,
    patient_chain_key,
)
from audit.trail import compute_mac

__all__ = [
    "COVERAGE_GRACE",
    "DEFAULT_CHUNK_SIZE",
    "Break",
    "CheckpointBreak",
    "VerificationResult",
    "verify_audit_trail",
]

DEFAULT_CHUNK_SIZE = 2000
# How far from its place a moved event is looked for (one MAC per candidate, on failure only).
REORDER_WINDOW = 1000


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


class _Verifier(CheckpointChecks):
    def __init__(self, max_reported: int) -> None:
        self.max_reported = max_reported
        self.result = VerificationResult()
        # Ids of the chains already reported: one line per chain, its first problem.
        self.reported: set[int] = set()
        self._start_coverage()

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
        if first is None:
            # Never taken: the caller passes a group of itertools.groupby, which is never empty.
            # A check rather than an assert, which python -O would strip.
            return
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


def _is_registry_key(key: str) -> bool:
    prefix, _sep, number = key.partition(REGISTRY_CHAIN_PREFIX)
    return not prefix and number.isdigit()
