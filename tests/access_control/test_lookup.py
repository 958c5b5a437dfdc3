"""Finding 1: a practitioner without consent learns nothing from a look-up, whatever the NIR.

Three kinds of NIR: unknown to the registry, in the registry but not enrolled, enrolled (no
consent). The pages, their addresses, the request button and the emergency page and its POST
answer the same for each; the look-up takes the same time; look-ups are throttled.
"""

from __future__ import annotations

import difflib
import re
from datetime import timedelta

import pytest
import time_machine
from celery.signals import task_prerun
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from access_control import services
from access_control.models import AccessRequest, EmergencyAccess, RecordSettings
from access_control.selectors import find_patient
from access_control.tasks import process_access_request, requeue_access_requests
from access_control.views import _too_many_lookups
from audit.models import AuditEvent
from dmp_portal.crypto.hashing import blind_index
from dmp_portal.crypto.models import DataKey
from tests import timing
from tests.access_control.factories import enrolled_patient, look_up, practitioner_with_login
from tests.accounts.factories import next_totp_token
from tests.enrollment.factories import make_beneficiary, make_nir
from tests.processes import wait_for

pytestmark = pytest.mark.django_db

REASON = "Patient inconscient admis aux urgences"


def normalised(response, nir: str = "") -> str:
    """The page without what differs on every answer: the CSRF token, the look-up's token, and
    the NIR typed (echoed in the form)."""
    content = response.content.decode()
    content = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", content)
    content = re.sub(r"/pro/patients/[0-9a-f-]{36}/", "/pro/patients/ID/", content)
    return content.replace(nir, "NIR") if nir else content


def three_nirs(opted_out: bool = False) -> dict[str, str]:
    """An unknown NIR, one of the registry without a record, one with a record."""
    patient, client, enrolled = enrolled_patient()
    if opted_out:
        RecordSettings.objects.create(patient=patient, emergency_opt_out=True)
    return {"unknown": make_nir(), "registry": make_beneficiary().nir, "enrolled": enrolled}


def same(answers: dict[str, tuple]) -> None:
    """Every kind of NIR got the same answer (the message shows where two pages differ)."""
    (first_kind, first), *others = answers.items()
    for kind, answer in others:
        diff = "\n".join(
            difflib.unified_diff(str(first).split("\\n"), str(answer).split("\\n"), n=0)
        )
        assert answer == first, f"{kind} answers differently from {first_kind}:\n{diff}"


def test_every_page_reachable_from_a_lookup_answers_the_same_whatever_the_nir(
    django_capture_on_commit_callbacks,
):
    nirs = three_nirs()
    profile, pro = practitioner_with_login()
    searches, emergency_pages, requests, record_pages = {}, {}, {}, {}
    for kind, nir in nirs.items():
        search = pro.post("/pro/", {"nir": nir})
        searches[kind] = (search.status_code, normalised(search, nir))
        links = re.findall(r'(?:href|action)="(/pro/patients/[^"]+)"', search.content.decode())
        assert len(links) == 2  # the request button and the emergency link, nothing else
        request_url, emergency_url = links
        page = pro.get(emergency_url)
        emergency_pages[kind] = (page.status_code, normalised(page))
        with django_capture_on_commit_callbacks(execute=True):  # the request's task runs
            asked = pro.post(request_url, follow=True)
        requests[kind] = (asked.redirect_chain, normalised(asked))
        # No address names a record: the one a probe might guess answers 404 like any other.
        record_pages[kind] = pro.get(request_url.replace("request/", "")).status_code
    same(searches)
    same(emergency_pages)
    same(requests)
    assert searches["unknown"][0] == 200 and emergency_pages["unknown"][0] == 200
    assert set(record_pages.values()) == {404}
    assert "Votre demande a été transmise au patient." in requests["enrolled"][1]
    # The request reached the one patient who exists; the look-ups are all recorded.
    assert AccessRequest.objects.filter(practitioner=profile.user).count() == 1
    assert AuditEvent.objects.filter(actor=profile.user, action="lookup").count() == 3


def test_an_emergency_without_record_answers_exactly_like_a_refused_one():
    nirs = three_nirs(opted_out=True)  # the enrolled patient refuses emergencies
    profile, pro = practitioner_with_login()
    device = profile.user.totpdevice_set.get()
    answers = {}
    for kind, nir in nirs.items():
        lookup, code = look_up(pro, nir), next_totp_token(device)
        response = pro.post(
            f"/pro/patients/{lookup}/emergency/", {"reason": REASON, "otp_token": code}
        )
        page = normalised(response).replace(f'value="{code}"', 'value="CODE"')
        answers[kind] = (response.status_code, response.get("Location"), page)
    same(answers)
    assert answers["unknown"][0] == 200 and "n&#x27;autorise pas" in answers["unknown"][2]
    assert not EmergencyAccess.objects.exists()
    reasons = set(
        AuditEvent.objects.filter(actor=profile.user, action="emergency").values_list(
            "reason", "outcome"
        )
    )
    assert reasons == {("no-such-record", "refused"), ("emergency-opted-out", "refused")}


def test_a_wrong_second_factor_answers_the_same_whatever_the_nir():
    nirs = three_nirs()
    profile, pro = practitioner_with_login()
    answers = {}
    for kind, nir in nirs.items():
        lookup = look_up(pro, nir)
        response = pro.post(
            f"/pro/patients/{lookup}/emergency/", {"reason": REASON, "otp_token": "000000"}
        )
        answers[kind] = (response.status_code, normalised(response))
    same(answers)
    assert not EmergencyAccess.objects.exists()
    assert (
        AuditEvent.objects.filter(
            actor=profile.user, action="emergency", reason="second-factor-failed"
        ).count()
        == 3
    )


def test_a_lookup_token_works_only_in_the_session_that_looked_up():
    """A third user: another practitioner replays the first one's addresses. Nothing reaches
    the patient, the answer is the usual one, and the attempt is recorded as finding nothing."""
    patient, _client, nir = enrolled_patient()
    _profile, pro = practitioner_with_login()
    intruder_profile, intruder = practitioner_with_login()
    lookup = look_up(pro, nir)
    asked = intruder.post(f"/pro/patients/{lookup}/request/")
    assert asked.status_code == 302 and asked["Location"] == "/pro/"
    declared = intruder.post(
        f"/pro/patients/{lookup}/emergency/",
        {
            "reason": REASON,
            "otp_token": next_totp_token(intruder_profile.user.totpdevice_set.get()),
        },
    )
    assert declared.status_code == 200
    assert not AccessRequest.objects.exists() and not EmergencyAccess.objects.exists()
    assert not AuditEvent.objects.filter(patient=patient, actor=intruder_profile.user).exists()
    assert set(
        AuditEvent.objects.filter(actor=intruder_profile.user).values_list("action", "reason")
    ) == {("request-access", "no-such-record"), ("emergency", "no-such-record")}


def test_with_consent_the_lookup_leads_to_the_record():
    patient, client, nir = enrolled_patient()
    profile, pro = practitioner_with_login()
    client.post("/access/", {"rpps": profile.rpps})
    page = pro.post("/pro/", {"nir": nir}).content.decode()
    assert f'href="/pro/patients/{patient.pk}/"' in page
    assert "/request/" not in page


@override_settings(PRO_LOOKUPS_PER_WINDOW=3)
def test_lookups_are_throttled_per_practitioner_and_the_throttled_one_is_recorded():
    _patient, _client, nir = enrolled_patient()
    profile, pro = practitioner_with_login()
    _other_profile, other = practitioner_with_login()
    for _ in range(3):
        assert "pas donné accès" in pro.post("/pro/", {"nir": nir}).content.decode()
    refused = pro.post("/pro/", {"nir": make_nir()})
    assert refused.status_code == 200
    content = refused.content.decode()
    with translation.override("fr"):
        assert _too_many_lookups(600) in content
    assert "pas donné accès" not in content and "/pro/patients/" not in content
    assert AuditEvent.objects.filter(
        actor=profile.user, action="lookup", outcome="refused", reason="throttled"
    ).exists()
    assert AuditEvent.objects.filter(actor=profile.user, action="lookup").count() == 4
    # Another practitioner is not slowed down by this one.
    assert "pas donné accès" in other.post("/pro/", {"nir": nir}).content.decode()


def test_a_bad_nir_is_explained_and_looks_nothing_up():
    _profile, pro = practitioner_with_login()
    response = pro.post("/pro/", {"nir": "1 85 05"})
    assert response.status_code == 200
    assert "vous en avez saisi 5" in response.content.decode()
    assert not AuditEvent.objects.filter(action="lookup").exists()


def sql_shapes(queries) -> list[str]:
    """The statements run, without their values (ids, dates, hashes, NULL)."""
    literal = r"'(?:[^']|'')*'(?:::[a-z]+)?|\bNULL\b|\b\d+(?:\.\d+)?\b|\"s\d+_x\d+\""
    return [re.sub(literal, "?", query["sql"]) for query in queries]


@override_settings(PRO_LOOKUPS_PER_WINDOW=10_000)
def test_a_lookup_runs_the_same_statements_whatever_the_nir():
    """What the timing follows, measured exactly: the same statements, in the same order, and
    nothing decrypted, for every kind of NIR."""
    nirs = three_nirs()
    profile, _pro = practitioner_with_login()
    shapes = {}
    for kind, nir in nirs.items():
        find_patient(profile.user, nir)  # first event of each chain
        with CaptureQueriesContext(connection) as queries:
            find_patient(profile.user, nir)
        shapes[kind] = sql_shapes(queries.captured_queries)
    same(shapes)
    # No data key is loaded, so nothing of the identity can be decrypted.
    assert not any(f'"{DataKey._meta.db_table}"' in shape for shape in shapes["enrolled"])


@pytest.fixture
def tasks_run():
    """The tasks that run from now on: (name, type of each argument, the arguments)."""
    ran = []

    def receiver(sender=None, args=None, kwargs=None, **_extra):
        values = [*(args or ()), *(kwargs or {}).values()]
        ran.append((sender.name, tuple(type(value).__name__ for value in values), values))

    task_prerun.connect(receiver, weak=False)
    yield ran
    task_prerun.disconnect(receiver)


def test_a_first_request_runs_the_same_statements_and_tasks_whatever_the_nir(
    django_capture_on_commit_callbacks, tasks_run
):
    """The first request for each kind of NIR, no warm-up: the same statements, and the same
    one task queued, with an id only; the task writes the one request that can exist, for the
    enrolled patient, and queues their e-mail."""
    nirs = three_nirs()
    profile, pro = practitioner_with_login()
    shapes, queued, asked = {}, {}, {}
    for kind, nir in nirs.items():
        request_url = f"/pro/patients/{look_up(pro, nir)}/request/"
        with (
            django_capture_on_commit_callbacks() as callbacks,
            CaptureQueriesContext(connection) as queries,
        ):
            pro.post(request_url)
        shapes[kind] = sql_shapes(queries.captured_queries)
        tasks_run.clear()
        while callbacks:  # as the commit would, then what those queue in turn
            with django_capture_on_commit_callbacks() as queued_by_tasks:
                for callback in callbacks:
                    callback()
            callbacks = list(queued_by_tasks)
        queued[kind] = [(name, types) for name, types, _values in tasks_run[:1]]
        asked[kind] = tasks_run[:]
    same(shapes)
    same(queued)
    assert queued["unknown"] == [("access_control.tasks.process_access_request", ("int",))]
    for kind, nir in nirs.items():  # nothing of the number travels to the broker
        values = " ".join(str(value) for _name, _types, values in asked[kind] for value in values)
        assert nir not in values and blind_index(nir, "nir") not in values, kind
    # Only the enrolled patient's request was written, and only it queued an e-mail.
    assert AccessRequest.objects.filter(practitioner=profile.user).count() == 1
    assert [name for name, _types, _values in asked["enrolled"]] == [
        "access_control.tasks.process_access_request",
        "access_control.tasks.send_patient_notification",
    ]
    assert len(asked["unknown"]) == len(asked["registry"]) == 1


def test_the_task_of_a_request_writes_it_once_and_never_reopens_an_answered_one(
    django_capture_on_commit_callbacks, tasks_run
):
    patient, client, nir = enrolled_patient()
    profile, pro = practitioner_with_login()
    request_url = f"/pro/patients/{look_up(pro, nir)}/request/"
    with django_capture_on_commit_callbacks(execute=True):
        pro.post(request_url)
        pro.post(request_url)  # asked again while pending: nothing new, no second e-mail
    assert AccessRequest.objects.filter(patient=patient, decided_at=None).count() == 1
    notifications = [name for name, *_rest in tasks_run if "notification" in name]
    assert notifications == ["access_control.tasks.send_patient_notification"]
    [(_name, _types, [event_id])] = [run for run in tasks_run if "process" in run[0]][:1]
    request = AccessRequest.objects.get(patient=patient)
    client.post(f"/access/requests/{request.pk}/decline/")
    # A replay of the first task (a worker lost before its acknowledgement) reopens nothing.
    assert process_access_request(event_id) is False
    assert not AccessRequest.objects.filter(patient=patient, decided_at=None).exists()


def test_declaring_runs_the_same_statements_for_a_nir_without_record_and_a_refused_one():
    nirs = three_nirs(opted_out=True)
    profile, pro = practitioner_with_login()
    device = profile.user.totpdevice_set.get()
    shapes = {}
    for kind, nir in nirs.items():
        url = f"/pro/patients/{look_up(pro, nir)}/emergency/"
        pro.post(url, {"reason": REASON, "otp_token": next_totp_token(device)})  # warm-up
        code = next_totp_token(device)
        with CaptureQueriesContext(connection) as queries:
            pro.post(url, {"reason": REASON, "otp_token": code})
        shapes[kind] = sql_shapes(queries.captured_queries)
    same(shapes)
    assert not EmergencyAccess.objects.exists()
    # Past the second factor every time: refused by the door, not by a wrong code.
    assert set(
        AuditEvent.objects.filter(actor=profile.user, action="emergency").values_list(
            "reason", flat=True
        )
    ) == {"no-such-record", "emergency-opted-out"}


ROUNDS = 40
# The look-up itself (the selector every page calls), timed: a whole page adds milliseconds of
# noise on a loaded machine, the same for every kind. A second unknown NIR is the control.
# Here a look-up takes 6 to 7 ms; the gaps of the right code stayed within -0.04..+0.17 ms,
# whereas decrypting the identity of enrolled patients only gave +0.79..+0.99 ms (fails every
# time), and one extra query for them +0.31..+0.63 ms (fails when the machine is quiet; the
# statements test above catches it always). The bound: tests/timing.py, at least 0.3 ms.
LOOKUP_FLOOR = 0.0003


@override_settings(PRO_LOOKUPS_PER_WINDOW=10_000)
def test_a_lookup_takes_the_same_time_whatever_the_nir():
    nirs = {**three_nirs(), "unknown again": make_nir()}
    profile, _pro = practitioner_with_login()

    def take():
        return timing.measure(
            lambda kind: find_patient(profile.user, nirs[kind]),
            list(nirs),
            reference="unknown",
            control="unknown again",
            rounds=ROUNDS,
            warm_up=3,
            floor=LOOKUP_FLOOR,
        )

    timing.assert_same_time(take, "look-up")


@pytest.mark.django_db(transaction=True)
def test_a_worker_writes_the_request_from_the_event_id_queued_on_redis(celery_worker):
    """The real path: the committed request queues its task on Redis (an id, as JSON); a
    separate worker process writes the request for the one NIR that has a record."""
    patient, _client, nir = enrolled_patient()
    profile, pro = practitioner_with_login()
    for number in (make_nir(), nir):
        pro.post(f"/pro/patients/{look_up(pro, number)}/request/")
    wait_for(lambda: AccessRequest.objects.filter(patient=patient).exists())
    assert AccessRequest.objects.filter(practitioner=profile.user).count() == 1


def test_a_request_whose_task_was_lost_is_queued_again_by_the_beat():
    """The commit's callback never ran (the broker was down): the beat's housekeeping queues
    the event again after a quarter of an hour, once, and never after the patient answered."""
    patient, _client, nir = enrolled_patient()
    _profile, pro = practitioner_with_login()
    pro.post(f"/pro/patients/{look_up(pro, nir)}/request/")  # its task is lost
    assert not AccessRequest.objects.exists()
    assert requeue_access_requests() == 0  # its task may still be on its way
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert requeue_access_requests() == 1
        request = AccessRequest.objects.get(patient=patient, decided_at=None)
        assert requeue_access_requests() == 0
        services.answer_request(patient, request.pk, False)
        assert requeue_access_requests() == 0
    assert AccessRequest.objects.filter(patient=patient).count() == 1
