"""What the health checks ask of each service (README, Deployment: health checks).

``/healthz`` (the outside contract) asks the database and, unless tasks run in-process, the
broker; ``/healthz/ready`` asks those and the cache, the storage (a write read back) and whether
a worker answered recently; ``/healthz/live`` asks nothing. Each check answers True or False,
never raises: a failing service makes the page say "error", never a 500.
"""

from __future__ import annotations

import time
import uuid

import redis
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

# The cache key a worker writes (dmp_portal.tasks.worker_heartbeat, queued by the beat).
HEARTBEAT_KEY = "health:worker-heartbeat"
# Where the storage check writes its probe file, removed at once.
_PROBE_DIR = "health-probes"


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        return False


def broker_ok() -> bool:
    url = settings.CELERY_BROKER_URL
    if not url:  # no broker configured while tasks are not run in-process: not healthy
        return False
    try:
        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        return bool(client.ping())
    except (redis.RedisError, ValueError):
        return False


def cache_ok() -> bool:
    """The throttles' counters live in the cache: a value written must read back."""
    key, value = f"health:probe:{uuid.uuid4().hex}", uuid.uuid4().hex
    try:
        cache.set(key, value, timeout=30)
        answered = cache.get(key) == value
        cache.delete(key)
        return answered
    except Exception:  # noqa: BLE001 - a cache backend raises its own errors
        return False


def storage_ok() -> bool:
    """Documents and letters are written to the default storage: a small file written there
    must read back byte for byte (a full or read-only volume, a bucket refusing writes fail)."""
    content = uuid.uuid4().bytes
    try:
        name = default_storage.save(f"{_PROBE_DIR}/{uuid.uuid4().hex}", ContentFile(content))
        try:
            with default_storage.open(name, "rb") as probe:
                return bool(probe.read() == content)
        finally:
            default_storage.delete(name)
    except Exception:  # noqa: BLE001 - every backend raises its own errors
        return False


def record_worker_heartbeat() -> None:
    cache.set(HEARTBEAT_KEY, time.time(), timeout=None)


def worker_ok() -> bool:
    """A worker ran the heartbeat task within WORKER_HEARTBEAT_MAX_AGE_SECONDS."""
    try:
        beat = cache.get(HEARTBEAT_KEY)
    except Exception:  # noqa: BLE001
        return False
    return isinstance(beat, float) and time.time() - beat <= settings.WORKER_HEARTBEAT_MAX_AGE
