"""What /metrics reads at scrape time on the real Redis broker (the messages waiting in each
queue), and the counts a real Celery worker process writes in its multiprocess directory."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
from django.db import connection
from kombu import Queue

from dmp_portal.celery import app
from dmp_portal.metrics import queue_names
from letters.models import Letter, LetterState
from letters.tasks import render_letter
from tests.enrollment.factories import make_beneficiary, make_nir
from tests.metrics_reading import TOKEN, scrape, value
from tests.processes import ROOT, start_worker, stop_worker, wait_for


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN


def test_the_queues_are_the_declared_ones_else_celerys_default(settings):
    settings.CELERY_TASK_QUEUES = None
    assert queue_names() == [settings.CELERY_TASK_DEFAULT_QUEUE] == ["default"]
    del settings.CELERY_TASK_DEFAULT_QUEUE
    assert queue_names() == ["celery"]
    settings.CELERY_TASK_QUEUES = (Queue("letters"), Queue("checkpoints"), Queue("celery"))
    assert queue_names() == ["celery", "checkpoints", "letters"]


@pytest.mark.django_db
def test_queue_depth_is_what_really_waits_on_the_broker(token, settings, redis_broker):
    name = f"metrics-probe-{uuid.uuid4().hex[:8]}"  # a queue no worker consumes
    settings.CELERY_TASK_QUEUES = (Queue("celery"), Queue(name))
    assert value(scrape(), "dmp_queue_messages", queue=name) == 0
    with app.connection_for_write() as connection:
        for _message in range(3):
            app.send_task("dmp_portal.tasks.worker_heartbeat", queue=name, connection=connection)
        try:
            text = scrape()
            assert value(text, "dmp_broker_up") == 1
            assert value(text, "dmp_queue_messages", queue=name) == 3
            assert 'dmp_queue_messages{queue="celery"}' in text
        finally:
            connection.default_channel.client.delete(name)
    assert value(scrape(), "dmp_queue_messages", queue=name) == 0


@pytest.mark.django_db
def test_a_broker_that_does_not_answer_is_said_not_a_failed_scrape(token, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"  # the discard port: nothing listens
    text = scrape()
    assert value(text, "dmp_broker_up") == 0
    assert "dmp_queue_messages" not in text


def _prefork_worker(name: str, queue: str, directory: str) -> subprocess.Popen:
    """A worker as production runs it (a prefork pool of 2 processes), on the test database;
    tests/processes.py starts solo workers only."""
    test_db = connection.settings_dict
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=directory)
    env["DATABASE_URL"] = (
        f"postgres://{test_db['USER']}:{test_db['PASSWORD'] or ''}@{test_db['HOST']}:"
        f"{test_db['PORT']}/{test_db['NAME']}"
    )
    log = Path(directory).parent / "worker.log"
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "dmp_portal", "worker", "--pool=prefork"]
            + ["--concurrency=2", "--without-gossip", "--without-mingle", "--loglevel=INFO"]
            + [f"--hostname={name}@%h", "-Q", queue],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    wait_for(
        lambda: any(
            name in host for reply in app.control.ping(timeout=1.0) or [] for host in reply
        ),
        timeout=60,
    )
    return process


@pytest.mark.django_db(transaction=True)
def test_a_prefork_workers_children_each_count_in_their_own_file(
    token, settings, redis_broker, tmp_path, monkeypatch
):
    worker_dir = tmp_path / "worker"
    worker_dir.mkdir()
    letters = []
    for _person in range(4):
        person = make_beneficiary(nir=make_nir())
        letters.append(
            Letter.objects.create(
                kind="creation_code", subject_uid=person.uid, data_key=person.data_key
            )
        )
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "web"))
    (tmp_path / "web").mkdir()
    settings.METRICS_EXTRA_MULTIPROC_DIRS = [str(worker_dir)]
    worker = _prefork_worker("metrics-prefork", "metrics-prefork", str(worker_dir))
    try:
        for letter in letters:
            render_letter.apply_async([letter.pk], queue="metrics-prefork")
        wait_for(
            lambda: value(scrape(), "dmp_letters_rendered_total", kind="creation_code") == 4,
            timeout=60,
        )
    finally:
        stop_worker(worker)
    assert Letter.objects.filter(state=LetterState.RENDERED).count() == 4
    # The pool's processes wrote the counts, not the parent that forked them.
    writers = {path.stem.rsplit("_", 1)[1] for path in worker_dir.glob("counter_*.db")}
    assert writers and str(worker.pid) not in writers


@pytest.mark.django_db(transaction=True)
def test_a_real_workers_letters_reach_metrics_through_its_directory(
    token, settings, redis_broker, tmp_path, monkeypatch
):
    """The worker counts in its own multiprocess directory; the web's /metrics (here: this
    process, in multiprocess mode) adds that directory to its own."""
    worker_dir, web_dir = tmp_path / "worker", tmp_path / "web"
    worker_dir.mkdir()
    web_dir.mkdir()
    person = make_beneficiary()
    # Created directly (not queued on the default queue): only the worker below may take it.
    letter = Letter.objects.create(
        kind="creation_code", subject_uid=person.uid, data_key=person.data_key
    )
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(web_dir))
    settings.METRICS_EXTRA_MULTIPROC_DIRS = [str(worker_dir)]
    assert value(scrape(), "dmp_letters_rendered_total") == 0
    worker = start_worker(
        "metrics", queues="metrics-render", PROMETHEUS_MULTIPROC_DIR=str(worker_dir)
    )
    try:
        render_letter.apply_async([letter.pk], queue="metrics-render")
        wait_for(lambda: Letter.objects.filter(pk=letter.pk, state=LetterState.RENDERED).first())
        wait_for(lambda: value(scrape(), "dmp_letters_rendered_total", kind="creation_code") == 1)
    finally:
        stop_worker(worker)
    assert list(worker_dir.glob("counter_*.db"))
    # Without the worker's directory, this process sees none of its counts.
    settings.METRICS_EXTRA_MULTIPROC_DIRS = []
    assert value(scrape(), "dmp_letters_rendered_total") == 0


@pytest.mark.django_db
def test_queue_depth_follows_the_brokers_key_prefix_and_priority_lists(
    token, settings, redis_broker
):
    """With kombu's global_keyprefix, the queue's list is the prefixed name, and messages of a
    priority step other than 0 wait in lists of their own: all are counted."""
    name = f"metrics-prefixed-{uuid.uuid4().hex[:8]}"
    settings.CELERY_TASK_QUEUES = (Queue(name),)
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": "dmp:"}
    client = redis.Redis.from_url(redis_broker)
    keys = [f"dmp:{name}", f"dmp:{name}\x06\x166", "dmp:unacked"]
    try:
        client.lpush(keys[0], "a", "b")
        client.lpush(keys[1], "c")
        client.hset(keys[2], "tag", "message")
        client.lpush(name, "not prefixed: not this broker's queue")
        text = scrape()
        assert value(text, "dmp_queue_messages", queue=name) == 3
        assert value(text, "dmp_queue_unacked_messages") == 1
    finally:
        client.delete(*keys, name)
