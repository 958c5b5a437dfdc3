"""Drill: the letters' worker is killed (SIGKILL) while it renders a run of letters.

Forty people ask for their creation code through the real enrolment service; a worker on the
default queue decides each request and queues its letter on the ``letters`` queue; a real
worker on that queue alone starts rendering them and is killed with SIGKILL after some letters
are done and before all are, inside the task of the sixteenth letter (the drill holds that
letter's row lock, so the worker is inside the task when it dies, whatever the machine's
speed). Another worker starts. Every letter must then be produced exactly once, and every
person hold exactly one code, which opens their record through the real code check
(tests/drills/letters_once.py).

What makes it hold: render_letter is acknowledged late and rejected when its worker is lost
(``DURABLE_TASK``), so the broker gives the killed task to the next worker after the visibility
timeout (5 s here); rendering locks the letter's row and issues the code in the transaction
that stores the letter, so a killed rendering leaves neither code nor rendered state, and a
redelivered task for a letter already rendered does nothing.
"""

from __future__ import annotations

import os
import signal

import pytest
from django.db import connection, connections

from enrollment.models import EnrollmentRequest
from enrollment.services.requests import request_code
from letters.models import Letter
from tests.drills.letters_once import rendered_count, verify_one_letter_and_one_code
from tests.drills.report import Drill, wait_until
from tests.enrollment.factories import make_beneficiary
from tests.processes import start_worker, stop_worker

pytestmark = pytest.mark.django_db(transaction=True)

PEOPLE = 40
HELD = 15  # the letter (by order of request) inside whose task the worker is killed
# Restored quickly after the kill: the message of the killed task waits this long unacknowledged.
FAST_REDELIVERY = {
    "CELERY_VISIBILITY_TIMEOUT_SECONDS": "5",
    "CELERY_UNACKED_RESTORE_INTERVAL_SECONDS": "1",
    "CELERY_UNACKED_RESTORE_THROTTLE": "1",
}


def _worker_waits_on_the_held_letter() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query LIKE '%%letters_letter%%'"
        )
        return cursor.fetchone()[0] > 0


def test_a_letters_worker_killed_mid_run_loses_no_letter_and_doubles_none(redis_broker):
    drill = Drill("worker killed")
    people = [make_beneficiary(last_name=f"Tueur{index:02d}") for index in range(PEOPLE)]
    for index, person in enumerate(people):
        request_code(f"192.0.2.{index + 1}", person.nir)
    intake = start_worker("drill-intake", queues="default")
    try:
        wait_until(
            lambda: (
                EnrollmentRequest.objects.filter(processed_at__isnull=False).count() == PEOPLE
                and Letter.objects.count() == PEOPLE
            ),
            timeout=120,
            what=f"{PEOPLE} requests decided and their letters queued on the letters queue",
        )
    finally:
        stop_worker(intake)
    assert rendered_count(people) == 0, "no worker consumed the letters queue yet"
    drill.verified(f"{PEOPLE} enrolment requests decided; {PEOPLE} letters queued, none rendered")

    # The kill must fall inside a rendering, whatever the machine's speed: the drill holds the
    # row lock of the letter in the middle of the run, so the worker, having taken that task
    # from the queue, waits inside it (render's first statement locks the letter's row).
    held = Letter.objects.filter(subject_uid__in=[p.uid for p in people]).order_by("pk")[HELD]
    blocker = connections.create_connection("default")
    blocker.set_autocommit(False)
    doomed = None
    try:
        with blocker.cursor() as cursor:
            cursor.execute("SELECT id FROM letters_letter WHERE id = %s FOR UPDATE", [held.pk])
        doomed = start_worker("drill-letters-doomed", queues="letters", **FAST_REDELIVERY)
        wait_until(
            _worker_waits_on_the_held_letter,
            timeout=120,
            what="the worker inside the task of the held letter",
        )
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait(timeout=20)
    finally:
        blocker.rollback()
        blocker.close()
        if doomed is not None and doomed.poll() is None:
            doomed.kill()
    at_kill = rendered_count(people)
    drill.injected(
        f"SIGKILL of the letters worker inside a rendering task, after {at_kill} of {PEOPLE} "
        "letters rendered"
    )
    assert 0 < at_kill < PEOPLE, "the kill must fall in the middle of the run"

    survivor = start_worker("drill-letters-survivor", queues="letters", **FAST_REDELIVERY)
    try:
        wait_until(
            lambda: rendered_count(people) == PEOPLE,
            timeout=90,
            what=f"all {PEOPLE} letters rendered by the second worker",
        )
        drill.verified(
            f"the second worker rendered the {PEOPLE - at_kill} letters left "
            "(the killed task redelivered after the visibility timeout)"
        )
    finally:
        stop_worker(survivor)
    verify_one_letter_and_one_code(drill, people)
    drill.done()
