"""Cool-off throttling of guesses.

Each attempt is counted *before* the guess is checked (so that a burst of parallel requests
cannot slip through between the check and the count), and given back when it succeeds. Past
``limit`` counted attempts within the cool-off period, further attempts for that subject are
refused until the period ends. Never a permanent lock. Keys are keyed hashes, so the cache
never holds an identifier or an address in clear.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass

from django.core.cache import cache

from dmp_portal.crypto.hashing import keyed_hash


@dataclass(frozen=True)
class Throttle:
    scope: str
    limit: int
    cooloff_seconds: int

    def _keys(self, subject: str) -> tuple[str, str]:
        digest = keyed_hash(f"throttle:{self.scope}", subject)
        return f"throttle:{self.scope}:n:{digest}", f"throttle:{self.scope}:until:{digest}"

    def retry_after(self, subject: str) -> int:
        """Seconds before the next attempt is allowed; 0 when allowed now."""
        _count_key, lock_key = self._keys(subject)
        until = cache.get(lock_key)
        if until is None:
            return 0
        return max(0, math.ceil(until - time.time()))

    def attempt(self, subject: str) -> int:
        """Count one attempt; returns 0 if it may go ahead, else the seconds to wait."""
        waiting = self.retry_after(subject)
        if waiting:
            return waiting
        count_key, lock_key = self._keys(subject)
        cache.add(count_key, 0, timeout=self.cooloff_seconds)
        try:
            attempts = cache.incr(count_key)
        except ValueError:  # expired between add and incr
            cache.set(count_key, 1, timeout=self.cooloff_seconds)
            attempts = 1
        if attempts > self.limit:
            cache.set(lock_key, time.time() + self.cooloff_seconds, timeout=self.cooloff_seconds)
            cache.delete(count_key)
            return self.cooloff_seconds
        return 0

    def succeeded(self, subject: str) -> None:
        """A successful attempt is not a failed guess: give it back."""
        count_key, _lock_key = self._keys(subject)
        with contextlib.suppress(ValueError):  # the period ended meanwhile
            cache.decr(count_key)

    def reset(self, subject: str) -> None:
        cache.delete_many(self._keys(subject))
