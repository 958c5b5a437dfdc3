"""The other processes the suite drives: a real Celery worker on the Redis broker, and waiting
for work another process does. Services that are missing skip a test on a developer's machine
and fail it under ``CI=true``, so that CI can never pass having skipped them."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from dmp_portal.settings.queues import QUEUES

ROOT = Path(__file__).resolve().parent.parent


def services_missing(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required under CI=true)")
    pytest.skip(reason)


# Every queue of the settings (dmp_portal/settings/queues.py): the suite's worker takes all the
# work a deployment spreads over several workers.
ALL_QUEUES = ",".join(QUEUES)


def start_worker(
    name: str, queues: str = ALL_QUEUES, broker_url: str | None = None, **extra_env: str
) -> subprocess.Popen:
    """Start a real `celery worker` process on the Redis broker, reading the test database.

    ``broker_url``: another broker than the suite's (a drill's own Redis, which it stops and
    restarts). Ready when the worker's log says so (see below)."""
    test_db = connection.settings_dict
    env = dict(os.environ, **extra_env)
    if broker_url is not None:
        env["CELERY_BROKER_URL"] = broker_url
    env["DATABASE_URL"] = (
        f"postgres://{test_db['USER']}:{test_db['PASSWORD'] or ''}@{test_db['HOST']}:"
        f"{test_db['PORT']}/{test_db['NAME']}"
    )
    log_path = Path(os.environ.get("DMP_VAR_DIR", "/tmp")) / f"celery-{name}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_start = log_path.stat().st_size if log_path.exists() else 0
    ready = re.compile(rf"{re.escape(name)}@\S* ready\.")
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "dmp_portal",
                "worker",
                "--pool=solo",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
                f"--hostname={name}@%h",
                "-Q",
                queues,
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the Celery worker exited: see {log_path}")
        # The worker's own "ready." line, not a ping: a solo-pool worker busy with a task (work
        # already queued, or a task a drill keeps waiting on a lock) answers no ping, and this
        # process's app cannot ping through another broker anyway.
        with log_path.open("rb") as log:
            log.seek(log_start)
            if ready.search(log.read().decode(errors="replace")):
                return process
        time.sleep(0.2)
    process.terminate()
    pytest.fail(f"the Celery worker did not answer within 60 s: see {log_path}")


def send_as_the_beat(task_name: str, broker_url: str) -> None:
    """Send a task by name to another broker than the suite's, as the beat does (``celery
    call``: ``send_task`` with the portal's routes), from a process of its own: Celery reads
    the ``CELERY_BROKER_URL`` environment variable before any configuration, so this process's
    app cannot be pointed elsewhere."""
    subprocess.run(
        [sys.executable, "-m", "celery", "-A", "dmp_portal", "call", task_name],
        cwd=ROOT,
        env=dict(os.environ, CELERY_BROKER_URL=broker_url),
        check=True,
        capture_output=True,
        timeout=60,
    )


def stop_worker(process: subprocess.Popen) -> None:
    """Stop a child process (a worker, a server): terminate, then kill if it lingers."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=20)


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.2):
    """Poll until ``predicate()`` is truthy (work done by another process); returns its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def wait_listening(
    process: subprocess.Popen, port: int, log_path: Path, name: str, timeout: float = 30.0
) -> None:
    """Wait until ``process`` accepts connections on the loopback ``port``; fail with its log
    when it exits first."""

    def listening() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"{name} exited:\n{log_path.read_text()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return True
        return False

    wait_for(listening, timeout=timeout, interval=0.1)
