"""Cool-off throttling of guesses, per account and per client.

After ``limit`` failures within the cool-off period, further attempts for that key are refused
until the period ends. It is never a permanent lock: a stranger who types someone else's
identifier can delay them by a cool-off at most, not shut them out. Keys are keyed hashes, so
the cache never holds an identifier or an address in clear.
"""

from __future__ import annotations

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

    def record_failure(self, subject: str) -> None:
        count_key, lock_key = self._keys(subject)
        cache.add(count_key, 0, timeout=self.cooloff_seconds)
        try:
            failures = cache.incr(count_key)
        except ValueError:  # expired between add and incr
            cache.set(count_key, 1, timeout=self.cooloff_seconds)
            failures = 1
        if failures >= self.limit:
            cache.set(lock_key, time.time() + self.cooloff_seconds, timeout=self.cooloff_seconds)
            cache.delete(count_key)

    def reset(self, subject: str) -> None:
        cache.delete_many(self._keys(subject))
