"""Drill: the broker is down while people enrol.

The portal runs as in production: gunicorn (a process of its own) and a real Celery worker, both
on a broker of the drill's own (a ``redis-server`` on a free loopback port, apart from the
suite's Redis, which also holds the cache). The broker is killed (SIGKILL) and people post the
enrolment form: each gets the usual page and each request is stored, the message that should
have carried it to the worker being lost (``enqueue_on_commit`` logs the failure and keeps the
committed request). The broker comes back, empty; those requests stay undecided until the
requeue of stalled work runs, sent as the beat sends it (twice in a row, as two beats would
overlap, so that every request is queued twice). Then every letter is produced, none twice, and
each person holds exactly one code that opens their record (tests/drills/letters_once.py).

The requeue beat takes requests older than 15 minutes: the drill moves the stalled requests'
creation back by 16 minutes rather than wait for a quarter of an hour.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from enrollment.models import Beneficiary, EnrollmentRequest
from enrollment.services.registry import nir_index
from tests.drills.letters_once import rendered_count, verify_one_letter_and_one_code
from tests.drills.report import Drill, wait_until
from tests.enrollment.factories import make_beneficiary
from tests.processes import ROOT, send_as_the_beat, start_worker, stop_worker

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = 5  # people who enrol while the broker is up
DURING = 20  # people who enrol while it is down
USUAL_PAGE = "Votre demande est enregistrée"
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_broker(port: int, directory: Path) -> subprocess.Popen:
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("redis-server is needed (scripts/testenv.py installs it)")
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        + ["--dir", str(directory), "--maxmemory-policy", "noeviction"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)

    def answers() -> bool:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    wait_until(answers, timeout=20, what=f"the drill's broker on port {port}")
    return process


def _start_gunicorn(port: int, broker_url: str, log_path: Path) -> subprocess.Popen:
    db = connection.settings_dict
    env = dict(
        os.environ,
        DATABASE_URL=(
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        ),
        CELERY_BROKER_URL=broker_url,
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        # Every request comes from 127.0.0.1: the per-client throttle is not what is drilled.
        ENROLLMENT_REQUESTS_PER_CLIENT_PER_HOUR="1000",
        LOG_LEVEL="WARNING",
    )
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "dmp_portal.wsgi:application"]
            + ["--bind", f"127.0.0.1:{port}", "--workers", "1", "--worker-class", "sync"]
            + ["--no-control-socket", "--timeout", "30"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def listens() -> bool:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited:\n{log_path.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False

    wait_until(listens, timeout=30, what="gunicorn listening")
    return process


def _enrol(port: int, nir: str) -> tuple[int, str, float]:
    """GET the form, then POST it as a browser does (CSRF cookie and token, Origin):
    (status, page, seconds the POST took)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/enrollment/", headers={"Accept-Language": "fr"})
        response = conn.getresponse()
        form = response.read().decode()
        cookies = "; ".join(
            header.split(";", 1)[0] for header in response.headers.get_all("Set-Cookie") or []
        )
        token = TOKEN.search(form)
        assert token, "no CSRF token in the form"
        body = urlencode(
            {"csrfmiddlewaretoken": token.group(1), "nir": nir, "nir_confirmation": nir}
        )
        started = time.monotonic()
        conn.request(
            "POST",
            "/enrollment/",
            body,
            {
                "Cookie": cookies,
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept-Language": "fr",
                "Origin": f"http://127.0.0.1:{port}",
                "Referer": f"http://127.0.0.1:{port}/enrollment/",
            },
        )
        answer = conn.getresponse()
        page = answer.read().decode()
        return answer.status, page, time.monotonic() - started
    finally:
        conn.close()


def _enrol_all(drill: Drill, port: int, people: list[Beneficiary], when: str) -> None:
    slowest = 0.0
    for person in people:
        status, page, seconds = _enrol(port, person.nir)
        assert status == 200, f"{when}: answered {status}"
        assert USUAL_PAGE in page, f"{when}: not the usual page"
        slowest = max(slowest, seconds)
    drill.verified(
        f"{when}: {len(people)} enrolments answered 200 with the usual page "
        f"« {USUAL_PAGE} » (slowest {slowest:.2f} s)"
    )


def _requests_of(people: list[Beneficiary]):
    return EnrollmentRequest.objects.filter(nir_index__in=[nir_index(p.nir) for p in people])


def test_enrolments_while_the_broker_is_down_are_kept_and_their_letters_produced_once(
    redis_broker, tmp_path
):
    drill = Drill("broker down")
    port = _free_port()
    broker_url = f"redis://127.0.0.1:{port}/0"
    broker = _start_broker(port, tmp_path)
    gunicorn_log = tmp_path / "gunicorn.log"
    web = _start_gunicorn(_free_port(), broker_url, gunicorn_log)
    web_port = int(re.search(r"127\.0\.0\.1:(\d+)", " ".join(web.args)).group(1))
    worker = start_worker("drill-broker", broker_url=broker_url)
    worker_log = Path(os.environ.get("DMP_VAR_DIR", "/tmp")) / "celery-drill-broker.log"
    before = [make_beneficiary(last_name=f"Avant{index:02d}") for index in range(BEFORE)]
    during = [make_beneficiary(last_name=f"Panne{index:02d}") for index in range(DURING)]
    try:
        _enrol_all(drill, web_port, before, "broker up")
        wait_until(
            lambda: rendered_count(before) == BEFORE,
            timeout=120,
            what="the letters of the people who enrolled before the outage",
        )

        broker.send_signal(signal.SIGKILL)
        broker.wait(timeout=20)
        drill.injected(f"SIGKILL of the broker (redis-server on 127.0.0.1:{port})")
        _enrol_all(drill, web_port, during, "broker down")
        stalled = _requests_of(during)
        assert stalled.count() == DURING, "a request was not stored"
        assert not stalled.filter(processed_at__isnull=False).exists()
        lost = sum(
            "send_task_after_commit" in line
            for line in gunicorn_log.read_text(errors="replace").splitlines()
        )
        assert lost >= DURING, "the portal did not try (and fail) to queue each request"
        drill.verified(
            f"{DURING} requests stored, undecided; {lost} log lines of the portal name the failed "
            "send (the committed requests kept)"
        )

        log_mark = len(worker_log.read_text(errors="replace"))
        broker = _start_broker(port, tmp_path)
        drill.injected("the broker restarted, empty (the lost messages are not in it)")
        wait_until(
            lambda: "Connected to redis" in worker_log.read_text(errors="replace")[log_mark:],
            timeout=60,
            what="the worker reconnected to the broker",
        )
        time.sleep(5)
        assert rendered_count(during) == 0, "letters appeared without the requeue"
        assert stalled.filter(processed_at__isnull=True).count() == DURING
        drill.verified(
            f"with the worker back, none of the {DURING} stalled requests is decided: only the "
            "requeue can bring them back"
        )

        # As if the beat's 15 minutes had passed since the outage.
        stalled.update(created_at=timezone.now() - timedelta(minutes=16))
        for _ in range(2):  # two beats overlapping: every stalled request queued twice
            send_as_the_beat("enrollment.tasks.requeue_stalled_requests", broker_url)
        send_as_the_beat("letters.tasks.requeue_stalled_letters", broker_url)
        drill.injected("requeue_stalled_requests sent twice and requeue_stalled_letters once")
        wait_until(
            lambda: rendered_count(during) == DURING,
            timeout=180,
            what=f"the {DURING} letters of the people who enrolled during the outage",
        )
        time.sleep(3)  # the duplicated messages run out: a second letter would show now
    finally:
        stop_worker(worker)
        web.terminate()
        web.wait(timeout=20)
        if broker.poll() is None:
            broker.terminate()
            broker.wait(timeout=20)
    assert _requests_of(during).filter(processed_at__isnull=True).count() == 0
    verify_one_letter_and_one_code(drill, before + during)
    drill.done()
