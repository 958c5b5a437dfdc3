"""Issue 18, item 5: one JSON line per event, in UTC, with the id of the request that caused it,
carried into the tasks it queues; never a NIR, code, token, e-mail address or name."""

from __future__ import annotations

import io
import json
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from celery import shared_task
from django.test import Client

from dmp_portal import queueing, request_context
from dmp_portal.logging import RedactSensitiveData, UtcFormatter
from tests.processes import wait_for

test_log = logging.getLogger("dmp.tests")


@shared_task
def log_a_line() -> None:
    test_log.info("task line")


@contextmanager
def written_lines() -> Iterator[list[dict]]:
    """The JSON objects the configured console handler writes meanwhile."""
    handler = next(
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.StreamHandler)
        and any(isinstance(f, RedactSensitiveData) for f in h.filters)
    )
    stream = io.StringIO()
    previous = handler.setStream(stream)
    lines: list[dict] = []
    try:
        yield lines
    finally:
        handler.setStream(previous)
        lines.extend(json.loads(line) for line in stream.getvalue().splitlines())


@pytest.mark.django_db
def test_a_request_logs_json_lines_in_utc_with_its_id():
    with written_lines() as lines:
        response = Client().get("/no-such-page/")
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32 and int(request_id, 16) >= 0
    [line] = [line for line in lines if line["logger"] == "django.request"]
    assert line["level"] == "WARNING"
    assert line["message"] == "Not Found: /no-such-page/"
    assert line["request_id"] == request_id
    when = datetime.fromisoformat(line["time"])
    assert when.utcoffset() == timedelta(0)


@pytest.mark.django_db
def test_each_request_gets_its_own_id_and_never_the_clients():
    client = Client()
    first = client.get("/healthz", HTTP_X_REQUEST_ID="1 85 05 78 006 084 91")
    second = client.get("/healthz")
    assert first["X-Request-ID"] != second["X-Request-ID"]
    assert re.fullmatch("[0-9a-f]{32}", first["X-Request-ID"])


@pytest.mark.django_db
def test_a_task_queued_in_process_logs_under_the_request_id():
    before = request_context.current()
    token = request_context.bind("0" * 31 + "a")
    try:
        with written_lines() as lines:
            queueing.enqueue(f"{__name__}.log_a_line")
    finally:
        request_context.unbind(token)
    [line] = [line for line in lines if line["message"] == "task line"]
    assert line["request_id"] == "0" * 31 + "a"
    assert request_context.current() == before


@pytest.mark.django_db(transaction=True)
def test_the_worker_logs_under_the_request_id_that_queued_the_task(celery_worker):
    request_id = request_context.new_id()
    token = request_context.bind(request_id)
    try:
        queueing.enqueue("accounts.tasks.clear_expired_sessions")
    finally:
        request_context.unbind(token)
    log_path = Path(os.environ.get("DMP_VAR_DIR", "/tmp")) / "celery-test-worker.log"

    def line_of_the_task():
        for raw in log_path.read_text(errors="replace").splitlines():
            if request_id in raw:
                return json.loads(raw)
        return None

    line = wait_for(line_of_the_task)
    assert line == {**line, "message": "expired sessions cleared", "request_id": request_id}


def test_a_forged_id_in_a_message_header_is_not_taken():
    forged = {request_context.TASK_HEADER: "Jean Dupont 1 85 05 78 006 084 91"}
    assert request_context.from_task_headers(forged, "task-id") == "task-id"


@pytest.mark.django_db
def test_no_personal_data_reaches_a_line():
    secrets = [
        "1 85 05 78 006 084 91",
        "7K2Q-D9XW-4MHN",
        "leaky-token-123",
        "jeanne.dupont@example.fr",
    ]
    with written_lines() as lines:
        logging.getLogger("django.request").warning(
            "Bad request for %s with %s, code %s",
            "jeanne.dupont@example.fr",
            secrets[0],
            secrets[1],
        )
        Client().get("/accounts/activate/leaky-token-123/extra/")
        Client().post(
            "/enrollment/", {"nir": secrets[0], "nir_confirmation": secrets[0]}, follow=True
        )
    written = json.dumps(lines)
    assert lines
    for secret in secrets:
        assert secret not in written


@pytest.mark.django_db
def test_an_unknown_host_is_a_warning_without_a_traceback():
    with written_lines() as lines:
        response = Client().get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    [line] = [line for line in lines if line["logger"] == "django.security.DisallowedHost"]
    assert line["level"] == "WARNING"
    assert "exception" not in line
    assert "Invalid HTTP_HOST header" in line["message"]


def test_the_plain_format_is_in_utc_too():
    formatter = UtcFormatter("%(asctime)s")
    record = logging.LogRecord("dmp.x", logging.INFO, __file__, 1, "m", None, None)
    record.created = 0.0
    assert formatter.format(record).startswith("1970-01-01 00:00:00")
