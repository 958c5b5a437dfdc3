"""The operator's metrics (issue 18, README "Metrics"): what the portal counts, and the text
Prometheus reads at ``/metrics``.

Every label takes its values from a short fixed list (a route's name, an audit action, a letter
kind, a throttle's name), never from what a client sends or from a person: no path (it can hold
ids and tokens), no identifier, no name, no address. A label fed by the request is bounded here
(``method_label``).

Several processes: gunicorn's workers and the Celery worker's pool each count in their own
memory unless ``PROMETHEUS_MULTIPROC_DIR`` is set; then prometheus-client writes every count to
a small file per process in that directory, and ``exposition`` sums the files of every process
(dead ones included: a counter never goes back when a worker is replaced).
"""

from __future__ import annotations

import glob
import os
import time
from collections.abc import Callable, Iterable, Iterator

import redis
from django.conf import settings
from django.core.cache import cache
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from dmp_portal.health import HEARTBEAT_KEY

# The counters live in a registry of their own (not prometheus-client's global one), so that
# the exposition says exactly what is listed here.
COUNTED = CollectorRegistry(auto_describe=True)

REQUEST_SECONDS = Histogram(
    "dmp_request_seconds",
    "Time to answer a request, by the name of the route that answered it.",
    ["view", "method", "status"],
    registry=COUNTED,
    # The portal's pages answer in tens of milliseconds; a download or an export in seconds.
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
AUDIT_EVENTS = Counter(
    "dmp_audit_events",
    "Audit events written, by action and outcome (one rolled back with its transaction too).",
    ["action", "outcome"],
    registry=COUNTED,
)
LETTERS_RENDERED = Counter(
    "dmp_letters_rendered",
    "Postal letters rendered and stored, by kind.",
    ["kind"],
    registry=COUNTED,
)
LOGIN_FAILURES = Counter(
    "dmp_login_failures",
    "Login steps refused for a wrong password or a wrong code (throttled ones excluded).",
    ["step"],
    registry=COUNTED,
)
THROTTLED = Counter(
    "dmp_throttled",
    "Attempts refused by a throttle, by the throttle's name.",
    ["throttle"],
    registry=COUNTED,
)

# The methods a browser or a program sends; anything else a client invents is one value.
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# kombu's Redis transport (its defaults, each changeable in CELERY_BROKER_TRANSPORT_OPTIONS):
# a queue's messages of priority 0 in a list named after the queue, those of the other priority
# steps in lists named with this separator and the step; messages delivered and not yet
# acknowledged in one hash; every key after an optional global prefix.
_PRIORITY_SEPARATOR = "\x06\x16"
_PRIORITY_STEPS = (0, 3, 6, 9)
_UNACKED_HASH = "unacked"


def _broker_keys(names: list[str]) -> tuple[list[list[str]], str]:
    """The lists holding each queue's waiting messages, and the hash of unacknowledged ones."""
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {}
    prefix = options.get("global_keyprefix", "")
    separator = options.get("sep", _PRIORITY_SEPARATOR)
    steps = options.get("priority_steps", _PRIORITY_STEPS)
    lists = [
        [f"{prefix}{name}{separator}{step}" if step else f"{prefix}{name}" for step in steps]
        for name in names
    ]
    return lists, f"{prefix}{options.get('unacked_key', _UNACKED_HASH)}"


def method_label(method: str | None) -> str:
    return method if method in _KNOWN_METHODS else "other"


def queue_names() -> list[str]:
    """The Celery queues the workers consume: ``CELERY_TASK_QUEUES`` when the settings declare
    them (kombu ``Queue`` objects or a mapping of names), else Celery's default queue."""
    declared = getattr(settings, "CELERY_TASK_QUEUES", None)
    if declared:
        if isinstance(declared, dict):
            return sorted(str(name) for name in declared)
        return sorted(str(getattr(queue, "name", queue)) for queue in declared)
    return [getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", None) or "celery"]


class BrokerCollector(Collector):
    """Read at scrape time: how many messages wait in each queue on the Redis broker, how many
    a worker took and has not acknowledged, and whether the broker answered at all. Never
    raises: a broker that does not answer shows as ``dmp_broker_up 0``."""

    def collect(self) -> Iterator[Metric]:
        url = settings.CELERY_BROKER_URL
        if not url or settings.CELERY_TASK_ALWAYS_EAGER:
            return  # tasks run in-process (make run): there is no broker to read
        up = GaugeMetricFamily("dmp_broker_up", "1 when the broker answered this scrape.")
        waiting = GaugeMetricFamily(
            "dmp_queue_messages",
            "Messages waiting on the broker, by Celery queue.",
            labels=["queue"],
        )
        unacked = GaugeMetricFamily(
            "dmp_queue_unacked_messages",
            "Messages a worker took and has not acknowledged yet (all queues).",
        )
        names = queue_names()
        lists, unacked_hash = _broker_keys(names)
        try:
            client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
            with client.pipeline(transaction=False) as pipe:
                for key in (key for keys in lists for key in keys):
                    pipe.llen(key)
                pipe.hlen(unacked_hash)
                answers = pipe.execute()
            client.close()
        except (redis.RedisError, ValueError):
            up.add_metric([], 0)
            yield up
            return
        lengths = iter(answers)
        for name, keys in zip(names, lists, strict=True):
            waiting.add_metric([name], sum(next(lengths) for _key in keys))
        unacked.add_metric([], next(lengths))
        up.add_metric([], 1)
        yield from (up, waiting, unacked)


class HeartbeatCollector(Collector):
    """Seconds since a worker last ran the heartbeat task (``dmp_portal.tasks``), read from the
    cache at scrape time; absent while no worker ever ran it or the cache does not answer."""

    def collect(self) -> Iterator[Metric]:
        try:
            beat = cache.get(HEARTBEAT_KEY)
        except Exception:  # noqa: BLE001 - every cache backend raises its own errors
            return
        if isinstance(beat, float):
            age = GaugeMetricFamily(
                "dmp_worker_heartbeat_age_seconds",
                "Seconds since a Celery worker last ran the heartbeat task.",
            )
            age.add_metric([], max(0.0, time.time() - beat))
            yield age


class _Counted(Collector):
    """This process's own counts, when there is no multiprocess directory."""

    def collect(self) -> Iterable[Metric]:
        return COUNTED.collect()


class _CountedInFiles(Collector):
    """The counts every process wrote in these directories, summed: this service's own
    (``PROMETHEUS_MULTIPROC_DIR``) and those of the other services on this host that share
    theirs with it (``METRICS_EXTRA_MULTIPROC_DIRS``: the Celery worker's, which renders the
    letters). One directory per service: in containers, processes of two services can have the
    same pid, and two processes must never write the same file."""

    def __init__(self, directories: list[str]) -> None:
        self.directories = directories

    def collect(self) -> Iterator[Metric]:
        files = [path for d in self.directories for path in glob.glob(os.path.join(d, "*.db"))]
        return iter(MultiProcessCollector.merge(files, accumulate=True))


def exposition(accept: str = "") -> tuple[bytes, str]:
    """The metrics in the format the scraper asked for (``Accept``), and its content type."""
    registry = CollectorRegistry(auto_describe=False)
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        registry.register(_CountedInFiles([directory, *settings.METRICS_EXTRA_MULTIPROC_DIRS]))
    else:
        registry.register(_Counted())
    registry.register(BrokerCollector())
    registry.register(HeartbeatCollector())
    encoder: Callable[[CollectorRegistry], bytes]
    encoder, content_type = choose_encoder(accept)
    return encoder(registry), content_type
