"""/metrics under gunicorn with several workers (README, Metrics): each worker counts in its
own file of PROMETHEUS_MULTIPROC_DIR, and whichever worker answers the scrape sums them all."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.metrics_reading import BEARER, TOKEN, value
from tests.processes import ROOT, wait_for

REQUESTS = 80


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, ""


@pytest.fixture
def gunicorn(tmp_path):
    port = _free_port()
    log = (tmp_path / "gunicorn.log").open("ab")
    directory = tmp_path / "metrics"
    directory.mkdir()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "dmp_portal.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--worker-class",
            "sync",
        ],
        cwd=ROOT,
        env=dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(directory), METRICS_TOKEN=TOKEN),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited: see {tmp_path / 'gunicorn.log'}")
        try:
            return _get(f"{base}/healthz/live")[0] == 200
        except OSError:
            time.sleep(0.2)
            return False

    try:
        wait_for(answers, timeout=60)
        yield base, directory
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def test_every_workers_requests_are_summed_whoever_answers_the_scrape(gunicorn):
    base, directory = gunicorn
    # The readiness probe above counted a few requests already: read the count first.
    before = value(
        _get(f"{base}/metrics", BEARER)[1], "dmp_request_seconds_count", view="healthz-live"
    )
    # Four clients at once: while one worker answers, the other takes the next request.
    with ThreadPoolExecutor(max_workers=4) as clients:
        statuses = list(clients.map(lambda _n: _get(f"{base}/healthz/live")[0], range(REQUESTS)))
    assert statuses == [200] * REQUESTS
    writers = {path.stem.rsplit("_", 1)[1] for path in directory.glob("histogram_*.db")}
    assert len(writers) == 2, f"both workers should have answered some requests: {writers}"
    for _scrape in range(6):  # answered by one worker or the other: always the same sum
        status, text = _get(f"{base}/metrics", BEARER)
        assert status == 200
        got = value(text, "dmp_request_seconds_count", view="healthz-live", method="GET")
        assert got == before + REQUESTS
    assert _get(f"{base}/metrics")[0] == 404
