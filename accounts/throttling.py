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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.cache import cache
from django.utils import timezone

from accounts.models import ThrottleLock, User
from dmp_portal.crypto.hashing import keyed_hash
from dmp_portal.metrics import THROTTLED


@dataclass(frozen=True)
class LockDescription:
    """What staff may see of a tripped login throttle (``accounts.locks``)."""

    account: User | None  # the account the identifier belongs to, if any
    network: str  # the client's network ("192.0.2.x"), never its address


def cache_keys(scope: str, digest: str) -> tuple[str, str]:
    return f"throttle:{scope}:n:{digest}", f"throttle:{scope}:until:{digest}"


def lift(scope: str, digest: str) -> None:
    """Staff lift a throttle: its counters and its lock leave the cache."""
    cache.delete_many(cache_keys(scope, digest))


@dataclass(frozen=True)
class Throttle:
    scope: str
    limit: int
    cooloff_seconds: int

    def _digest(self, subject: str) -> str:
        return keyed_hash(f"throttle:{self.scope}", subject)

    def _keys(self, subject: str) -> tuple[str, str]:
        return cache_keys(self.scope, self._digest(subject))

    def retry_after(self, subject: str) -> int:
        """Seconds before the next attempt is allowed; 0 when allowed now."""
        _count_key, lock_key = self._keys(subject)
        until = cache.get(lock_key)
        if until is None:
            return 0
        return max(0, math.ceil(until - time.time()))

    def refusal(self, subject: str) -> int:
        """``retry_after`` where a caller refuses when it is not 0: the refusal is counted
        (``dmp_throttled_total``, README "Metrics")."""
        waiting = self.retry_after(subject)
        if waiting:
            THROTTLED.labels(throttle=self.scope).inc()
        return waiting

    def attempt(self, subject: str, describe: Callable[[], LockDescription] | None = None) -> int:
        """Count one attempt; returns 0 if it may go ahead, else the seconds to wait.

        ``describe``: for a login throttle, what staff may see of it once it trips (asked
        then only, so that an ordinary attempt costs no query)."""
        waiting = self.refusal(subject)
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
            until = time.time() + self.cooloff_seconds
            cache.set(lock_key, until, timeout=self.cooloff_seconds)
            cache.delete(count_key)
            if describe is not None:
                self._show_to_staff(subject, until, describe())
            THROTTLED.labels(throttle=self.scope).inc()
            return self.cooloff_seconds
        return 0

    def _show_to_staff(self, subject: str, until: float, about: LockDescription) -> None:
        ThrottleLock.objects.filter(until__lte=timezone.now()).delete()  # the ended ones
        ThrottleLock.objects.update_or_create(
            scope=self.scope,
            key_digest=self._digest(subject),
            defaults={
                "until": datetime.fromtimestamp(until, tz=UTC),
                "account": about.account,
                "network": about.network,
                "tripped_at": timezone.now(),
            },
        )

    def succeeded(self, subject: str) -> None:
        """A successful attempt is not a failed guess: give it back."""
        count_key, _lock_key = self._keys(subject)
        with contextlib.suppress(ValueError):  # the period ended meanwhile
            cache.decr(count_key)

    def reset(self, subject: str) -> None:
        cache.delete_many(self._keys(subject))
        ThrottleLock.objects.filter(scope=self.scope, key_digest=self._digest(subject)).delete()
