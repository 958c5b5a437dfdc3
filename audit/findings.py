"""What ``verify_audit`` finds: the first break of each chain, what is wrong with a checkpoint,
and the counts (``audit.verify``). The strings below are the command's output
contract (README, Management commands): scripts and monitoring read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
