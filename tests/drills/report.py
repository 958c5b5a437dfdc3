"""What every fault drill prints: the fault it injected, then each thing it verified.

``make drills`` runs pytest with ``-s``, so the lines reach the terminal (and CI's log) as the
drill goes, each prefixed with the drill's name.
"""

from __future__ import annotations

import time


class Drill:
    def __init__(self, name: str) -> None:
        self.name = name
        self.started = time.monotonic()
        print(f"\n== drill: {name}", flush=True)

    def injected(self, what: str) -> None:
        print(f"[{self.name}] injected: {what}", flush=True)

    def verified(self, what: str) -> None:
        print(f"[{self.name}] verified: {what}", flush=True)

    def done(self) -> None:
        print(f"[{self.name}] passed in {time.monotonic() - self.started:.1f} s", flush=True)


def wait_until(condition, *, timeout: float, what: str, interval: float = 0.2):
    """Poll ``condition`` until it returns a true value (returned); a drill is bounded in time,
    so after ``timeout`` seconds it fails, saying what it was waiting for."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"after {timeout:.0f} s, still waiting for: {what}")
        time.sleep(interval)
