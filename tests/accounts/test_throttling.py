"""The throttle counts each guess before it is checked, so a burst cannot slip through."""

from __future__ import annotations

import time_machine

from accounts.throttling import Throttle


def test_attempts_are_counted_before_they_are_checked():
    throttle = Throttle("unit", limit=3, cooloff_seconds=900)
    with time_machine.travel("2026-11-28 10:00 +0000", tick=False) as clock:
        # Four requests arrive together, none has finished checking its guess yet.
        assert [throttle.attempt("subject") for _ in range(4)] == [0, 0, 0, 900]
        assert throttle.retry_after("subject") == 900
        assert throttle.retry_after("someone else") == 0
        clock.shift(901)
        assert throttle.attempt("subject") == 0


def test_successful_attempts_are_given_back():
    throttle = Throttle("unit-success", limit=2, cooloff_seconds=900)
    for _index in range(10):
        assert throttle.attempt("subject") == 0
        throttle.succeeded("subject")
    assert throttle.retry_after("subject") == 0
