"""The letter is rendered by a real Celery worker over Redis, even when a worker dies mid-task."""

from __future__ import annotations

import os
import signal

import pytest
from django.db import connections
from django.test import Client

from enrollment.models import EnrollmentRequest, RequestOutcome
from letters.models import Letter, LetterState
from letters.tasks import render_letter
from tests.enrollment.factories import make_beneficiary
from tests.letters.reading import code_from_letter
from tests.processes import start_worker, stop_worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_request_is_processed_and_its_letter_rendered_by_the_worker(celery_worker):
    person = make_beneficiary()
    response = Client().post("/enrollment/", {"nir": person.nir, "nir_confirmation": person.nir})
    assert response.status_code == 200
    letter = wait_for(
        lambda: Letter.objects.filter(subject_uid=person.uid, state=LetterState.RENDERED).first()
    )
    assert EnrollmentRequest.objects.get().outcome == RequestOutcome.LETTER
    assert len(code_from_letter(letter)) == 14


def test_a_worker_killed_mid_task_loses_no_letter(redis_broker):
    person = make_beneficiary()
    # Created directly (not queued on the default queue): only the workers below may take it.
    letter = Letter.objects.create(
        kind="creation_code", subject_uid=person.uid, data_key=person.data_key
    )
    # Hold the letter's row lock from another connection: the task will block on it.
    blocker = connections.create_connection("default")
    blocker.set_autocommit(False)
    with blocker.cursor() as cursor:
        cursor.execute("SELECT id FROM letters_letter WHERE id = %s FOR UPDATE", [letter.pk])
    doomed = start_worker("doomed", queues="crash-test", CELERY_VISIBILITY_TIMEOUT_SECONDS="3")
    try:
        render_letter.apply_async([letter.pk], queue="crash-test")

        def worker_is_waiting_on_the_lock():
            with connections["default"].cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
                    "'Lock' AND query LIKE '%%letters_letter%%'"
                )
                return cursor.fetchone()[0] > 0

        wait_for(worker_is_waiting_on_the_lock)
        os.kill(doomed.pid, signal.SIGKILL)  # the worker dies in the middle of the task
        doomed.wait(timeout=20)
    finally:
        blocker.rollback()
        blocker.close()
    assert Letter.objects.get(pk=letter.pk).state == LetterState.REQUESTED

    survivor = start_worker(
        "survivor",
        queues="crash-test",
        CELERY_VISIBILITY_TIMEOUT_SECONDS="3",
        CELERY_UNACKED_RESTORE_INTERVAL_SECONDS="1",
        CELERY_UNACKED_RESTORE_THROTTLE="1",
    )
    try:
        rendered = wait_for(
            lambda: Letter.objects.filter(pk=letter.pk, state=LetterState.RENDERED).first(),
            timeout=60,
        )
    finally:
        stop_worker(survivor)
    assert rendered.page_count == 1
