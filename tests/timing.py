"""Timing checks that hold on a loaded machine (a CI runner shared with other jobs).

Each kind of input is timed in rounds, every kind once per round in a rotating order, and
compared with the reference kind of the same round (moments apart, so that load from elsewhere
slows both). A control kind does exactly the reference's work: the spread of its gaps is the
noise of this run, measured rather than assumed. A kind fails when the median of its gaps is
beyond a bound that grows with that noise (a few standard errors of a median) and never falls
below a floor (what this machine cannot tell apart). A whole measurement is tried up to three
times: a burst of load can skew one of them, whereas a real difference shows in each.
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

# Standard errors of the median allowed either way: with the control's own spread, a kind that
# does the same work is beyond this bound in far less than one measurement in a thousand.
STANDARD_ERRORS = 4.0
ATTEMPTS = 3


@dataclass(frozen=True)
class Measurement:
    medians: dict[str, float]  # each kind's median gap to the reference, in seconds
    reference: float  # the reference's median time, in seconds
    noise: float  # the standard error of a median gap, from the control's spread
    bound: float

    def slow_or_fast(self) -> dict[str, float]:
        return {kind: gap for kind, gap in self.medians.items() if abs(gap) > self.bound}

    def __str__(self) -> str:
        gaps = ", ".join(f"{kind} {gap * 1000:+.3f}" for kind, gap in self.medians.items())
        return (
            f"reference {self.reference * 1000:.3f} ms; median gaps (ms): {gaps}; "
            f"noise {self.noise * 1000:.3f} ms, bound {self.bound * 1000:.3f} ms"
        )


def measure(
    run: Callable[[str], object],
    kinds: list[str],
    *,
    reference: str,
    control: str,
    rounds: int,
    warm_up: int,
    floor: float,
    before_each: Callable[[], object] | None = None,
) -> Measurement:
    """Time ``run(kind)`` for every kind (``before_each`` runs untimed before each try);
    ``floor``, in seconds, is the smallest bound (differences this machine cannot resolve)."""
    gaps: dict[str, list[float]] = {kind: [] for kind in kinds if kind != reference}
    reference_times = []
    gc.disable()
    try:
        for number in range(rounds + warm_up):
            shift = number % len(kinds)
            took = {}
            for kind in kinds[shift:] + kinds[:shift]:
                if before_each is not None:
                    before_each()
                start = time.perf_counter()
                run(kind)
                took[kind] = time.perf_counter() - start
            if number < warm_up:  # first events of each chain, cold caches
                continue
            reference_times.append(took[reference])
            for kind in gaps:
                gaps[kind].append(took[kind] - took[reference])
    finally:
        gc.enable()
    control_gaps = gaps[control]
    centre = statistics.median(control_gaps)
    spread = 1.4826 * statistics.median(abs(gap - centre) for gap in control_gaps)
    noise = 1.2533 * spread / math.sqrt(rounds)
    return Measurement(
        medians={kind: statistics.median(values) for kind, values in gaps.items()},
        reference=statistics.median(reference_times),
        noise=noise,
        bound=max(floor, STANDARD_ERRORS * noise),
    )


def assert_same_time(take: Callable[[], Measurement], what: str) -> list[Measurement]:
    """Passes on the first of ``ATTEMPTS`` measurements where every kind is within its bound;
    returns the measurements taken (printed with ``-s``)."""
    taken = []
    for _attempt in range(ATTEMPTS):
        measurement = take()
        taken.append(measurement)
        print(f"{what}: {measurement}")
        if not measurement.slow_or_fast():
            return taken
    pytest.fail(f"{what}: a kind is slower or faster than the reference: {taken}")
