"""The signed checkpoints' part of ``verify_audit`` (``audit.verify``).

The checkpoints' own integrity (numbered, linked, signed by a known key, heads matching their
signed digest), every head a checkpoint recorded against its chain, and the coverage of each
chain: an event written more than ``COVERAGE_GRACE`` before the last validly signed checkpoint
must be at or below the latest head the checkpoints recorded for its chain.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from itertools import groupby
from operator import itemgetter

from django.db import connection

from audit.checkpoints import GENESIS_DIGEST, head_line, heads_hasher, statement
from audit.findings import (
    BAD_DIGEST,
    BAD_HEADS,
    BAD_LINK,
    BAD_SIGNATURE,
    CHECKPOINT_MISMATCH,
    MISSING,
    UNKNOWN_KEY,
    Break,
    CheckpointBreak,
    VerificationResult,
)
from audit.models import AuditChain, AuditCheckpoint, AuditCheckpointHead, AuditEvent
from dmp_portal.crypto.signing import verify as verify_signature

# The checkpointed heads whose event is gone or carries another MAC.
CHECKPOINTED_HEADS_SQL = """
SELECT h.chain_id, h.checkpoint_id, h.sequence, c.key, e.id
FROM access_control_auditcheckpointhead h
LEFT JOIN access_control_auditchain c ON c.id = h.chain_id
LEFT JOIN access_control_auditevent e ON e.chain_id = h.chain_id AND e.sequence = h.sequence
WHERE e.id IS NULL OR e.mac <> {mac_hex}
ORDER BY h.chain_id, h.checkpoint_id
"""

# An audit event's transaction commits, and a checkpoint reads its snapshot, well within this:
# an event older than that at the last checkpoint was committed before it, so it must be covered.
COVERAGE_GRACE = timedelta(minutes=15)
HEADS_CHUNK_SIZE = 2000


class CheckpointChecks(ABC):
    """Mixed into the verifier, which provides ``result``, ``max_reported`` and ``_report``."""

    result: VerificationResult
    max_reported: int

    # Abstract because the verifier (``audit.verify``) owns how a chain's problem is reported
    # (its first one only, within ``max_reported``); declared here so that the checks below
    # may call it, and so that a class mixing them in without it cannot be built.
    @abstractmethod
    def _report(self, found: Break, chain_id: int) -> None: ...

    # --- Coverage: every event old enough lies within its chain's latest recorded head --------

    def _start_coverage(self) -> None:
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
            .iterator(chunk_size=HEADS_CHUNK_SIZE)
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
            rows = group[1] if own and group is not None else ()
            found = self._check_checkpoint(checkpoint, rows, previous)
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
        rows: Iterable[tuple[int, int, int, bytes | memoryview]],
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
