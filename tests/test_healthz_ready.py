"""Issue 18, item 5: liveness asks nothing; readiness asks the database, the cache, the storage,
the broker and whether a worker answered recently. /healthz stays as README documents it."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from dmp_portal import queueing
from dmp_portal.health import HEARTBEAT_KEY
from dmp_portal.tasks import worker_heartbeat
from tests.processes import wait_for
from tests.storage_backends import local_disk_only, stored_files

pytestmark = pytest.mark.django_db

ALL_OK = {
    "database": "ok",
    "cache": "ok",
    "storage": "ok",
    "broker": "ok",
    "worker": "ok",
}


def test_liveness_answers_without_asking_anything():
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0"):
        response = Client().get("/healthz/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]


def test_ready_when_every_service_answers_and_a_worker_beat():
    worker_heartbeat()
    response = Client().get("/healthz/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": ALL_OK}


def test_not_ready_without_a_recent_heartbeat():
    response = Client().get("/healthz/ready")
    assert response.status_code == 503
    assert response.json()["checks"] == {**ALL_OK, "worker": "error"}
    cache.set(HEARTBEAT_KEY, time.time() - 181, timeout=None)
    assert Client().get("/healthz/ready").json()["checks"]["worker"] == "error"


@override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0")
def test_not_ready_when_the_broker_does_not_answer():
    worker_heartbeat()
    response = Client().get("/healthz/ready")
    assert response.status_code == 503
    assert response.json()["checks"] == {**ALL_OK, "broker": "error"}


@override_settings(
    CACHES={
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
)
def test_not_ready_when_the_cache_does_not_answer():
    response = Client().get("/healthz/ready")
    assert response.status_code == 503
    assert response.json()["checks"] == {**ALL_OK, "cache": "error", "worker": "error"}


@local_disk_only
def test_not_ready_when_the_storage_refuses_writes(settings, tmp_path):
    # A media folder that cannot be created (its parent is a file): refused even to root.
    worker_heartbeat()
    blocker = tmp_path / "not-a-folder"
    blocker.write_bytes(b"")
    settings.MEDIA_ROOT = blocker / "media"
    response = Client().get("/healthz/ready")
    assert response.status_code == 503
    assert response.json()["checks"] == {**ALL_OK, "storage": "error"}


def test_the_storage_probe_leaves_nothing_behind():
    before = stored_files()
    worker_heartbeat()
    assert Client().get("/healthz/ready").status_code == 200
    assert stored_files() == before


@override_settings(CELERY_TASK_ALWAYS_EAGER=True)
def test_in_process_tasks_have_no_broker_nor_worker_to_ask():
    response = Client().get("/healthz/ready")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "storage": "ok"}


def test_healthz_keeps_its_documented_answer():
    response = Client().get("/healthz")
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_writes_the_heartbeat(celery_worker):
    queueing.enqueue("dmp_portal.tasks.worker_heartbeat")
    wait_for(lambda: cache.get(HEARTBEAT_KEY))
    assert Client().get("/healthz/ready").json()["checks"]["worker"] == "ok"
