"""A practitioner's access request between the click and the patient's answer.

The request is written by a task (``access_requests.deliver_access_request``) that may run up to
a day after the click (the beat queues lost tasks again). What the patient decided meanwhile
wins: a block, or the practitioner's account closed, leaves no request and no e-mail; a block
closes the practitioner's open requests; and no consent can be given beside a block, so that a
block overrides everything. Requests are throttled per practitioner.
"""

from __future__ import annotations

import importlib
import re
from datetime import timedelta

import pytest
import time_machine
from celery.signals import task_prerun
from django.apps import apps as django_apps
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext

from access_control.access_requests import undelivered_access_requests
from access_control.models import AccessRequest, Block, Consent, TreatingPhysician
from access_control.tasks import process_access_request, requeue_access_requests
from access_control.views import _too_many_requests
from accounts.models import User
from audit.models import AuditChain, AuditEvent, patient_chain_key
from tests.access_control.factories import (
    ask_access,
    enrolled_patient,
    look_up,
    practitioner_with_login,
)
from tests.enrollment.factories import make_nir

pytestmark = pytest.mark.django_db

BLOCKED = "You blocked this professional. Lift the block first to give them access."


def in_french(message: str) -> str:
    """How the page shows ``message`` (French, escaped for HTML)."""
    with translation.override("fr"):
        return escape(gettext(message))


@pytest.fixture
def tasks_run():
    """The names of the tasks that run from now on."""
    ran = []

    def receiver(sender=None, **_extra):
        ran.append(sender.name)

    task_prerun.connect(receiver, weak=False)
    yield ran
    task_prerun.disconnect(receiver)


@pytest.fixture
def run_callbacks(django_capture_on_commit_callbacks):
    """Run commit callbacks as the commit would, then whatever they queue in turn."""

    def run(callbacks) -> None:
        callbacks = list(callbacks)
        while callbacks:
            with django_capture_on_commit_callbacks() as queued:
                for callback in callbacks:
                    callback()
            callbacks = list(queued)

    return run


def without_csrf_token(page: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)


def block(client, profile):
    return client.post("/access/blocks/", {"block-rpps": profile.rpps})


# --- What the patient decided before the task ran ---------------------------------------------


def test_a_block_before_the_task_leaves_no_request_and_tells_nobody(
    django_capture_on_commit_callbacks, run_callbacks, tasks_run
):
    patient, client, nir = enrolled_patient()
    profile, pro = practitioner_with_login()
    with django_capture_on_commit_callbacks() as queued:
        ask_access(pro, nir)
    assert block(client, profile).status_code == 302
    run_callbacks(queued)  # the task runs after the block (a busy worker, a requeue)
    assert tasks_run == ["access_control.tasks.process_access_request"]  # no e-mail queued
    assert not AccessRequest.objects.exists()
    assert "/access/requests/" not in client.get("/access/").content.decode()
    # The trail holds the request the door allowed, then the block: nothing else was recorded.
    assert list(
        AuditEvent.objects.filter(patient=patient, action__in=("request-access", "block"))
        .order_by("occurred_at", "pk")
        .values_list("action", "outcome")
    ) == [("request-access", "allowed"), ("block", "allowed")]


def test_a_practitioner_whose_account_was_closed_before_the_task_leaves_no_request(
    django_capture_on_commit_callbacks, run_callbacks, tasks_run
):
    _patient, _client, nir = enrolled_patient()
    profile, pro = practitioner_with_login()
    with django_capture_on_commit_callbacks() as queued:
        ask_access(pro, nir)
    User.objects.filter(pk=profile.user.pk).update(is_active=False)
    run_callbacks(queued)
    assert tasks_run == ["access_control.tasks.process_access_request"]
    assert not AccessRequest.objects.exists()


def test_the_beat_does_not_queue_again_a_request_answered_by_a_block_or_a_closed_account(
    run_callbacks,
):
    """Lost tasks are queued again for a day: not those the patient's block answered (even
    lifted since), nor those of a closed account, which would run every five minutes."""
    patient, client, nir = enrolled_patient()
    profile, pro = practitioner_with_login()
    closed_profile, closed_pro = practitioner_with_login()
    ask_access(pro, nir)  # both tasks are lost
    ask_access(closed_pro, nir)
    block(client, profile)
    client.post(f"/access/blocks/{Block.objects.get().pk}/lift/")
    User.objects.filter(pk=closed_profile.user.pk).update(is_active=False)
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert undelivered_access_requests() == []
        assert requeue_access_requests() == 0
    # Replayed by hand all the same (a task already on its way): nothing is written.
    for event in AuditEvent.objects.filter(action="request-access", outcome="allowed"):
        run_callbacks([lambda event_id=event.pk: _process(event_id)])
    assert not AccessRequest.objects.exists()


def _process(event_id: int) -> None:
    process_access_request.delay(event_id)


def test_an_allowed_request_is_still_written_when_nothing_changed(run_callbacks, tasks_run):
    """The control of the tests above: the same steps without the block write the request."""
    patient, _client, nir = enrolled_patient()
    _profile, pro = practitioner_with_login()
    ask_access(pro, nir)  # lost
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert len(undelivered_access_requests()) == 1
        [event_id] = undelivered_access_requests()
        run_callbacks([lambda: _process(event_id)])
    assert AccessRequest.objects.filter(patient=patient, decided_at=None).count() == 1
    assert "access_control.tasks.send_patient_notification" in tasks_run


# --- A block closes what is open, and nothing opens beside it ---------------------------------


def test_a_block_declines_the_practitioners_open_requests_only(
    django_capture_on_commit_callbacks,
):
    patient, client, nir = enrolled_patient()
    profile, pro = practitioner_with_login()
    _other, other_pro = practitioner_with_login()
    with django_capture_on_commit_callbacks(execute=True):
        ask_access(pro, nir)
        ask_access(other_pro, nir)
    block(client, profile)
    closed = AccessRequest.objects.get(practitioner=profile.user)
    assert closed.decided_at is not None and closed.accepted is False
    # The other practitioner's request (a third user) is still waiting for the patient.
    assert AccessRequest.objects.get(practitioner=_other.user).decided_at is None
    overview = client.get("/access/").content.decode()
    assert f"/access/requests/{closed.pk}/accept/" not in overview


def test_accepting_a_request_of_a_blocked_practitioner_is_refused_and_changes_nothing():
    """A request left open beside a block (written before this fix, or by a task racing the
    block): accepting it is refused in French, and neither a consent nor the answer is written."""
    patient, client, _nir = enrolled_patient()
    profile, _pro = practitioner_with_login()
    block(client, profile)
    request = AccessRequest.objects.create(patient=patient, practitioner=profile.user)
    response = client.post(f"/access/requests/{request.pk}/accept/", follow=True)
    assert in_french(BLOCKED) in response.content.decode()
    assert not Consent.objects.exists()
    request.refresh_from_db()
    assert request.decided_at is None and request.accepted is None
    assert Block.objects.active().filter(patient=patient, practitioner=profile.user).exists()
    # Declining it stays possible.
    client.post(f"/access/requests/{request.pk}/decline/")
    request.refresh_from_db()
    assert request.decided_at is not None and request.accepted is False


def test_granting_or_designating_a_blocked_practitioner_is_refused_and_changes_nothing():
    patient, client, _nir = enrolled_patient()
    profile, _pro = practitioner_with_login()
    block(client, profile)
    granted = client.post("/access/", {"rpps": profile.rpps})
    designated = client.post("/access/treating-physician/", {"md-rpps": profile.rpps})
    for response in (granted, designated):
        assert response.status_code == 200
        assert in_french(BLOCKED) in response.content.decode()
    assert not Consent.objects.exists() and not TreatingPhysician.objects.exists()
    # Once the block is lifted, the same grant goes through.
    client.post(f"/access/blocks/{Block.objects.get().pk}/lift/")
    assert client.post("/access/", {"rpps": profile.rpps}).status_code == 302
    assert Consent.objects.live().filter(patient=patient, practitioner=profile.user).exists()


def test_the_migration_declines_the_requests_left_open_beside_a_block():
    """Requests written beside a block before this fix: migration 0009 declines them (accepting
    them would be refused), and leaves the others open."""
    patient, client, _nir = enrolled_patient()
    profile, _pro = practitioner_with_login()
    other, _other_pro = practitioner_with_login()
    lifted, _lifted_pro = practitioner_with_login()
    for practitioner in (profile, lifted):
        block(client, practitioner)
    client.post(f"/access/blocks/{Block.objects.get(practitioner=lifted.user).pk}/lift/")
    requests = {
        name: AccessRequest.objects.create(patient=patient, practitioner=practitioner.user)
        for name, practitioner in (("blocked", profile), ("other", other), ("lifted", lifted))
    }
    migration = importlib.import_module("access_control.migrations.0009_allowed_request_index")
    migration.decline_requests_beside_blocks(django_apps, None)
    for request in requests.values():
        request.refresh_from_db()
    assert requests["blocked"].decided_at is not None and requests["blocked"].accepted is False
    assert requests["other"].decided_at is None and requests["lifted"].decided_at is None


# --- The requeue beat reads a partial index, not a day of the whole trail ---------------------


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_requeue_beat_reads_the_index_of_allowed_requests():
    """A day of the trail is mostly reads: with sequential scans priced out, the beat's query
    finds the allowed requests through their partial index, not through the time index (which
    would walk every event of the day)."""
    patient, _client, nir = enrolled_patient()
    _profile, pro = practitioner_with_login()
    ask_access(pro, nir)
    chain = AuditChain.objects.get(key=patient_chain_key(patient.pk))
    now, first = timezone.now(), chain.last_sequence + 1
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                chain=chain,
                sequence=first + index,
                occurred_at=now - timedelta(seconds=index * 10),
                actor=patient,
                actor_role="patient",
                patient=patient,
                action="view",
                outcome="allowed",
                reason="own-record",
                previous_mac="0" * 64,
                mac="0" * 64,
            )
            for index in range(5000)
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE access_control_auditevent")
    with CaptureQueriesContext(connection) as queries:
        undelivered_access_requests()
    [sql] = [query["sql"] for query in queries.captured_queries]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = _plan(sql)
    assert "auditevent_allowed_request" in plan, plan
    assert "auditevent_time" not in plan, plan


# --- Requests are throttled per practitioner ------------------------------------------------


@override_settings(PRO_REQUESTS_PER_WINDOW=2)
def test_requests_are_throttled_per_practitioner_the_same_whatever_the_nir(
    django_capture_on_commit_callbacks, tasks_run
):
    patient, _client, nir = enrolled_patient()
    profile, pro = practitioner_with_login()
    _other, other_pro = practitioner_with_login()
    request_url = f"/pro/patients/{look_up(pro, nir)}/request/"
    unknown_url = f"/pro/patients/{look_up(pro, make_nir())}/request/"
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):  # followed: their messages are shown, not carried over
            assert pro.post(request_url, follow=True).redirect_chain == [("/pro/", 302)]
    tasks_run.clear()
    before = AuditEvent.objects.filter(patient=patient).count()
    with django_capture_on_commit_callbacks() as queued:
        refused = [pro.post(url, follow=True) for url in (request_url, unknown_url)]
    # The same answer for a record and for no record: an error, nothing sent.
    pages = [(r.redirect_chain, without_csrf_token(r.content.decode())) for r in refused]
    assert pages[0] == pages[1]
    with translation.override("fr"):
        assert escape(_too_many_requests(600)) in pages[0][1]
    assert "Votre demande a été transmise" not in pages[0][1]
    # Recorded on the system chain, never on the patient's; no task queued.
    assert queued == [] and tasks_run == []
    assert AuditEvent.objects.filter(patient=patient).count() == before
    assert (
        AuditEvent.objects.filter(
            actor=profile.user,
            patient=None,
            action="request-access",
            outcome="refused",
            reason="throttled",
        ).count()
        == 2
    )
    # Another practitioner is not slowed down by this one.
    other_url = f"/pro/patients/{look_up(other_pro, nir)}/request/"
    answer = other_pro.post(other_url, follow=True).content.decode()
    assert "Votre demande a été transmise au patient." in answer
