"""Services queue their tasks through one helper: after the commit, never on a rollback, and
with ids only, whether tasks run in-process (``make run``, unit tests) or in a real worker."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from enum import StrEnum
from pathlib import Path

import pytest
import time_machine
from celery import Task
from celery.signals import task_prerun
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from dmp_portal.celery import app
from dmp_portal.queueing import enqueue, enqueue_on_commit
from enrollment.models import Beneficiary
from letters.models import Letter, LetterState
from letters.tasks import requeue_stalled_letters
from tests.enrollment.factories import make_beneficiary, make_nir
from tests.processes import wait_for

RENDER = "letters.tasks.render_letter"


class Colour(StrEnum):
    BLUE = "blue"


@pytest.fixture
def tasks_run():
    """The names and arguments of the tasks that run in this process from now on."""
    ran = []

    def receiver(sender=None, args=(), **_extra):
        ran.append((sender.name, tuple(args)))

    task_prerun.connect(receiver, weak=False)
    yield ran
    task_prerun.disconnect(receiver)


def requested_letter(person: Beneficiary) -> Letter:
    """A letter stored as requested, with no task queued for it."""
    return Letter.objects.create(
        kind="creation_code", subject_uid=person.uid, data_key=person.data_key
    )


def state_of(letter: Letter) -> str:
    return Letter.objects.get(pk=letter.pk).state


# --- After the commit, never on a rollback ----------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_task_runs_once_the_transaction_commits_and_not_before(tasks_run):
    assert app.conf.task_always_eager  # the in-process mode of `make run` and unit tests
    letter = requested_letter(make_beneficiary())
    with transaction.atomic():
        enqueue_on_commit(RENDER, letter.pk)
        assert tasks_run == []
        assert state_of(letter) == LetterState.REQUESTED
    assert tasks_run == [(RENDER, (letter.pk,))]
    assert state_of(letter) == LetterState.RENDERED


@pytest.mark.django_db(transaction=True)
def test_nothing_is_queued_when_the_transaction_rolls_back(tasks_run):
    letter = requested_letter(make_beneficiary())
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_on_commit(RENDER, letter.pk)
        raise RuntimeError("the service failed after queueing")
    assert tasks_run == []
    assert state_of(letter) == LetterState.REQUESTED


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_savepoint_drops_its_task_and_keeps_the_others(tasks_run):
    first, second = (requested_letter(make_beneficiary()) for _ in range(2))
    with transaction.atomic():
        enqueue_on_commit(RENDER, first.pk)
        with pytest.raises(RuntimeError), transaction.atomic():
            enqueue_on_commit(RENDER, second.pk)
            raise RuntimeError("this part is undone")
    assert tasks_run == [(RENDER, (first.pk,))]
    assert (state_of(first), state_of(second)) == (LetterState.RENDERED, LetterState.REQUESTED)


# --- Ids only ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argument",
    [
        pytest.param(make_nir(), id="a NIR"),
        pytest.param("10000000033", id="an RPPS number (digits only)"),
        pytest.param("42", id="an id written as digits"),
        pytest.param("Dupont", id="a name"),
        pytest.param("blue", id="a code as free text"),
        pytest.param(uuid.uuid4().hex, id="a UUID without its dashes"),
        pytest.param({"patient": 1}, id="a dict"),
        pytest.param([1, 2], id="a list"),
        pytest.param(b"\x00\x01", id="bytes (a blind index)"),
        pytest.param(True, id="a bool"),
        pytest.param(1.5, id="a float"),
        pytest.param(None, id="None"),
    ],
)
@pytest.mark.django_db
def test_anything_but_an_id_is_refused_and_nothing_is_queued(
    argument, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        with pytest.raises(TypeError, match="ids only"):
            enqueue_on_commit(RENDER, 1, argument)
        with pytest.raises(TypeError, match="ids only"):
            enqueue(RENDER, argument)
    assert queued == []


@pytest.mark.django_db
def test_ids_and_kinds_from_a_fixed_list_are_sent_as_plain_values(
    django_capture_on_commit_callbacks, tasks_run
):
    """What a worker would decode from JSON is what the eager task receives: ints and strings."""
    patient_id = uuid.uuid4()
    with django_capture_on_commit_callbacks(execute=True) as queued:
        enqueue_on_commit("access_control.tasks.send_patient_notification", Colour.BLUE, patient_id)
        enqueue_on_commit(
            "access_control.tasks.send_physician_emergency_notification", str(patient_id)
        )
    assert len(queued) == 2
    assert tasks_run == [
        ("access_control.tasks.send_patient_notification", ("blue", str(patient_id))),
        ("access_control.tasks.send_physician_emergency_notification", (str(patient_id),)),
    ]
    assert [type(value) for _name, args in tasks_run for value in args] == [str, str, str]


# --- The beats queue again what a lost message left behind ------------------------------------


@pytest.mark.django_db
def test_a_letter_whose_task_was_lost_is_rendered_by_the_beat(tasks_run):
    letter = requested_letter(make_beneficiary())  # its task never reached the broker
    assert requeue_stalled_letters() == 0  # it may still be on its way
    assert state_of(letter) == LetterState.REQUESTED
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert requeue_stalled_letters() == 1
    assert (RENDER, (letter.pk,)) in tasks_run
    assert state_of(letter) == LetterState.RENDERED


# --- The real path: Redis and a worker process -------------------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_worker_runs_the_task_queued_on_commit(celery_worker):
    letter = requested_letter(make_beneficiary())
    with transaction.atomic():
        enqueue_on_commit(RENDER, letter.pk)
    rendered = wait_for(
        lambda: Letter.objects.filter(pk=letter.pk, state=LetterState.RENDERED).first()
    )
    assert rendered.page_count == 1


# --- A misspelt path would only be logged at commit: every path in the product must resolve -----


def test_every_task_path_the_product_queues_names_a_celery_task():
    root = Path(__file__).resolve().parent.parent
    sources = [
        path
        for app_dir in ("access_control", "accounts", "enrollment", "letters", "records")
        for path in (root / app_dir).rglob("*.py")
    ]
    paths = {
        match
        for source in sources
        for match in re.findall(r'enqueue(?:_on_commit)?\(\s*"([\w.]+)"', source.read_text())
    }
    assert len(paths) == 13  # a new one shows here: this test then checks it too
    for task_path in sorted(paths):
        task = import_string(task_path)
        assert isinstance(task, Task)
        assert task.name == task_path
