"""Caregivers (issue 17, item 6): the patient invites another enrolled person named by their
identifier, last name and birth date (one answer whatever is wrong, throttled, nothing
learnt), for a scope and at most a year; the invited person accepts or declines; the patient
ends it at once. Each refusal changes nothing; a third person is refused (404)."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from access_control import caregivers, policy
from access_control.models import (
    CaregiverGrant,
    ClosureReason,
    RecordClosure,
    caregiver_last_day,
)
from audit.models import Action, AuditEvent, Mode, Outcome
from dmp_portal.crypto.fields import EncryptedField
from tests.access_control.factories import practitioner_with_login
from tests.accounts.factories import give_verified_email, page_answer
from tests.enrollment.factories import make_beneficiary
from tests.records.factories import add_document, patient_with_login

pytestmark = pytest.mark.django_db

BORN = date(1950, 7, 4)
NOON = time(12)
URL = "/access/caregivers/"


@pytest.fixture
def people():
    """The patient (a), the person they invite (b, enrolled as « Lefèvre »), a third (c)."""
    a, client_a = patient_with_login()
    b, client_b = patient_with_login()
    c, client_c = patient_with_login()
    beneficiary = make_beneficiary(last_name="Lefèvre", born=BORN)
    beneficiary.patient = b
    beneficiary.save(update_fields=["patient"])
    return {"a": (a, client_a), "b": (b, client_b), "c": (c, client_c)}


def invitation(b, **changes) -> caregivers.Invitation:
    values = {
        "identifier": b.username,
        "last_name": "Lefèvre",
        "birth_date": BORN,
        "scope": "read",
        "until": timezone.localdate() + timedelta(days=30),
    }
    values.update(changes)
    return caregivers.Invitation(**values)


def refusal(patient) -> AuditEvent:
    return AuditEvent.objects.filter(patient=patient, action=Action.INVITE_CAREGIVER).latest("pk")


def test_an_invitation_naming_the_person_right_is_pending_until_accepted(people):
    (a, _), (b, _) = people["a"], people["b"]
    grant = caregivers.invite(a, invitation(b, last_name=" lefevre "))  # accents, case
    assert (grant.caregiver, grant.scope, grant.accepted_at) == (b, "read", None)
    assert refusal(a).outcome == Outcome.ALLOWED
    assert not policy.decide(b, a, Action.LIST, acting_for=True).allowed


@pytest.mark.parametrize(
    "wrong",
    [
        {"identifier": "nobody42"},
        {"last_name": "Martin"},
        {"birth_date": date(1950, 7, 5)},
    ],
)
def test_any_wrong_field_gets_the_one_answer_and_changes_nothing(people, wrong):
    (a, _), (b, _) = people["a"], people["b"]
    with pytest.raises(caregivers.CaregiverError) as error:
        caregivers.invite(a, invitation(b, **wrong))
    assert error.value.message == caregivers.no_match_message()
    assert not CaregiverGrant.objects.exists()
    event = refusal(a)
    assert (event.outcome, event.reason) == (Outcome.REFUSED, caregivers.NO_MATCH)


def test_a_person_without_a_record_or_oneself_gets_the_same_answer(people):
    (a, _), (c, _) = people["a"], people["c"]
    # c has an account but no registry row; a is a themself.
    for named in (c, a):
        with pytest.raises(caregivers.CaregiverError) as error:
            caregivers.invite(a, invitation(named))
        assert error.value.message == caregivers.no_match_message()
    assert not CaregiverGrant.objects.exists()


@pytest.mark.parametrize("days", [-1, 367])
def test_an_end_date_past_or_beyond_a_year_is_refused(people, days):
    (a, _), (b, _) = people["a"], people["b"]
    with pytest.raises(caregivers.CaregiverError) as error:
        caregivers.invite(a, invitation(b, until=timezone.localdate() + timedelta(days=days)))
    assert error.value.field == "until"
    assert not CaregiverGrant.objects.exists()


# "At most one year": up to the same date next year, not one day more (29 February: 28 February).
@pytest.mark.parametrize(
    ("today", "last"),
    [
        (date(2026, 11, 30), date(2027, 11, 30)),
        (date(2027, 3, 1), date(2028, 3, 1)),  # across a 29 February: still the same date
        (date(2028, 2, 29), date(2029, 2, 28)),
    ],
)
def test_a_year_to_the_day_is_accepted_and_one_day_more_refused(people, today, last):
    (a, _), (b, _) = people["a"], people["b"]
    assert caregiver_last_day(today) == last
    with time_machine.travel(timezone.make_aware(datetime.combine(today, NOON))):
        with pytest.raises(caregivers.CaregiverError) as error:
            caregivers.invite(a, invitation(b, until=last + timedelta(days=1)))
        assert error.value.field == "until"
        # The message names the last day allowed, with the format and an example.
        assert last.strftime("%d/%m/%Y") in error.value.message
        assert not CaregiverGrant.objects.exists()
        caregivers.invite(a, invitation(b, until=last))
    assert CaregiverGrant.objects.get().until == last


@override_settings(PRO_LOOKUPS_PER_WINDOW=2)
def test_guesses_are_throttled_even_the_right_one(people):
    (a, _), (b, _) = people["a"], people["b"]
    for _try in range(2):
        with pytest.raises(caregivers.CaregiverError):
            caregivers.invite(a, invitation(b, last_name="Martin"))
    with pytest.raises(caregivers.CaregiverError) as error:
        caregivers.invite(a, invitation(b))
    assert error.value.message != caregivers.no_match_message()
    assert refusal(a).reason == caregivers.THROTTLED
    assert not CaregiverGrant.objects.exists()


def test_the_same_work_is_done_whether_the_identifier_names_someone_enrolled_or_not(
    people, monkeypatch
):
    """Two registry fields decrypted whatever is wrong (a decoy row's for an identifier naming
    nobody enrolled), so that the time taken does not tell who is enrolled; never a match."""
    (b, _), (c, _) = people["b"], people["c"]
    decoy = make_beneficiary(last_name="Leurre", born=BORN)  # another enrolled person
    decoy.patient = patient_with_login()[0]
    decoy.save(update_fields=["patient"])
    opened: list[str] = []
    real_open = EncryptedField.open

    def counting_open(field, instance, blob):
        opened.append(field.name)
        return real_open(field, instance, blob)

    monkeypatch.setattr(EncryptedField, "open", counting_open)
    cases = {
        "unknown identifier": {"identifier": "nobody42"},
        "account without a registry row": {"identifier": c.username},
        "wrong name": {"last_name": "Martin"},
        "wrong birth date": {"birth_date": date(1950, 7, 5)},
        "right": {},
    }
    for case, wrong in cases.items():
        opened.clear()
        values = invitation(b, **wrong)
        found = caregivers.identify(values.identifier, values.last_name, values.birth_date)
        assert sorted(opened) == ["birth_date", "last_name"], case
        assert (found == b) == (case == "right"), case
    # A decoy's own facts never name anyone through another identifier.
    for _draw in range(10):
        assert caregivers.identify("nobody42", "Leurre", BORN) is None
        assert caregivers.identify(c.username, "Lefèvre", BORN) is None


def test_inviting_the_same_person_twice_is_refused(people):
    (a, _), (b, _) = people["a"], people["b"]
    caregivers.invite(a, invitation(b))
    with pytest.raises(caregivers.CaregiverError):
        caregivers.invite(a, invitation(b, scope="manage"))
    assert CaregiverGrant.objects.get().scope == "read"


@pytest.mark.parametrize("accepted", [True, False])
def test_a_grant_past_its_last_day_is_ended_and_the_person_invited_again(people, accepted):
    (a, _), (b, _), (c, _) = people["a"], people["b"], people["c"]
    old = caregivers.invite(a, invitation(b))
    if accepted:
        caregivers.answer(b, old.pk, accept=True)
    yesterday = timezone.localdate() - timedelta(days=1)
    CaregiverGrant.objects.filter(pk=old.pk).update(until=yesterday)
    # Another patient's past grant to the same person is not theirs to end.
    theirs = CaregiverGrant.objects.create(patient=c, caregiver=b, scope="read", until=yesterday)
    new = caregivers.invite(a, invitation(b, scope="manage"))
    old.refresh_from_db()
    assert old.revoked_reason == "expired" and old.revoked_at is not None
    assert (new.scope, new.revoked_at) == ("manage", None)
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    # Not before its last day is past: still "already invited".
    with pytest.raises(caregivers.CaregiverError):
        caregivers.invite(a, invitation(b))
    assert CaregiverGrant.objects.filter(patient=a, revoked_at__isnull=True).get() == new


def test_a_person_who_declined_is_not_invited_again_for_thirty_days(people):
    (a, _), (b, _), (c, _) = people["a"], people["b"], people["c"]
    already = caregivers.invite(a, invitation(b))
    with pytest.raises(caregivers.CaregiverError) as error:
        caregivers.invite(a, invitation(b))
    already_message = error.value.message
    caregivers.answer(b, already.pk, accept=False)
    with pytest.raises(caregivers.CaregiverError) as error:
        caregivers.invite(a, invitation(b))
    assert error.value.message == already_message  # the same answer as "already invited"
    assert refusal(a).reason == caregivers.ALREADY
    assert CaregiverGrant.objects.filter(revoked_at=None).count() == 0
    # Another patient may invite them; and so may the same patient once the days are past.
    caregivers.invite(c, invitation(b))
    later = timezone.now() + timedelta(days=caregivers.DECLINED_QUIET_DAYS, minutes=1)
    with time_machine.travel(later):
        caregivers.invite(a, invitation(b, until=timezone.localdate() + timedelta(days=30)))
    assert CaregiverGrant.objects.filter(patient=a, revoked_at=None).count() == 1


def test_the_invited_person_is_told_by_e_mail_without_anything_of_the_record(
    people, django_capture_on_commit_callbacks
):
    (a, _), (b, _) = people["a"], people["b"]
    give_verified_email(b, "aidant@example.fr")
    own_row = make_beneficiary(last_name="Durand", born=date(1960, 1, 2))
    own_row.patient = a
    own_row.save(update_fields=["patient"])
    document = add_document(a, title="Compte rendu de cardiologie")
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(caregivers.CaregiverError),
    ):
        caregivers.invite(a, invitation(b, last_name="Martin"))  # no match: no e-mail
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        caregivers.invite(a, invitation(b))
    assert [m.to for m in mail.outbox] == [["aidant@example.fr"]]
    message = mail.outbox[0]
    assert "/access/caregivers/" in message.body
    for secret in (a.username, "Durand", str(own_row.first_name), document.title):
        assert secret not in message.body and secret not in message.subject


def test_a_closed_record_invites_no_one(people):
    (a, _), (b, _) = people["a"], people["b"]
    RecordClosure.objects.create(
        patient=a, reason=ClosureReason.PATIENT, archive_until=timezone.localdate()
    )
    with pytest.raises(caregivers.CaregiverError):
        caregivers.invite(a, invitation(b))
    assert not CaregiverGrant.objects.exists()
    assert refusal(a).reason == "record-closed"


def test_the_invited_person_accepts_and_may_then_read(people):
    (a, _), (b, _) = people["a"], people["b"]
    grant = caregivers.invite(a, invitation(b))
    caregivers.answer(b, grant.pk, accept=True)
    decision = policy.decide(b, a, Action.LIST, acting_for=True)
    assert decision.allowed and decision.mode == Mode.CAREGIVER
    event = AuditEvent.objects.filter(action=Action.ACCEPT_CAREGIVER).get()
    assert (event.actor_id, event.patient_id) == (b.pk, a.pk)
    assert (event.outcome, event.mode, event.reason) == (Outcome.ALLOWED, Mode.CAREGIVER, "invited")
    # Answered once only.
    with pytest.raises(caregivers.CaregiverNotFound):
        caregivers.answer(b, grant.pk, accept=False)


def test_the_invited_person_declines(people):
    (a, _), (b, _) = people["a"], people["b"]
    grant = caregivers.invite(a, invitation(b))
    caregivers.answer(b, grant.pk, accept=False)
    grant.refresh_from_db()
    assert grant.revoked_reason == "declined" and grant.accepted_at is None
    assert not policy.decide(b, a, Action.LIST, acting_for=True).allowed


@pytest.mark.parametrize("accept", [True, False])
@pytest.mark.parametrize("who", ["a", "c"])
def test_nobody_else_answers_an_invitation(people, who, accept):
    (a, _), (b, _) = people["a"], people["b"]
    grant = caregivers.invite(a, invitation(b))
    with pytest.raises(caregivers.CaregiverNotFound):
        caregivers.answer(people[who][0], grant.pk, accept=accept)
    grant.refresh_from_db()
    assert grant.accepted_at is None and grant.revoked_at is None
    event = AuditEvent.objects.filter(actor=people[who][0]).latest("pk")
    assert (event.patient_id, event.outcome) == (a.pk, Outcome.REFUSED)


def test_one_s_own_invitation_does_not_answer_another_s(people):
    (a, _), (b, _), (c, _) = people["a"], people["b"], people["c"]
    theirs = caregivers.invite(a, invitation(b))
    CaregiverGrant.objects.create(
        patient=a, caregiver=c, scope="read", until=timezone.localdate() + timedelta(days=5)
    )
    with pytest.raises(caregivers.CaregiverNotFound):
        caregivers.answer(c, theirs.pk, accept=True)
    theirs.refresh_from_db()
    assert theirs.accepted_at is None
    assert AuditEvent.objects.filter(actor=c).latest("pk").reason == "caregiver-not-invited"


@pytest.mark.parametrize("accept", [True, False])
def test_an_invitation_to_a_closed_record_is_answered_by_the_door(people, accept):
    (a, _), (b, _) = people["a"], people["b"]
    grant = caregivers.invite(a, invitation(b))
    # The closure itself ends pending invitations; the door does not rely on it.
    RecordClosure.objects.create(
        patient=a, reason=ClosureReason.PATIENT, archive_until=timezone.localdate()
    )
    with pytest.raises(caregivers.CaregiverNotFound):
        caregivers.answer(b, grant.pk, accept=accept)
    grant.refresh_from_db()
    assert grant.accepted_at is None and grant.revoked_at is None
    event = AuditEvent.objects.filter(actor=b).latest("pk")
    assert (event.patient_id, event.outcome, event.reason, event.mode) == (
        a.pk,
        Outcome.REFUSED,
        "record-closed",
        Mode.CAREGIVER,
    )


def test_the_door_lets_only_the_invited_person_answer(people):
    (a, _), (b, _), (c, _) = people["a"], people["b"], people["c"]
    for action in (Action.ACCEPT_CAREGIVER, Action.DECLINE_CAREGIVER):
        assert not policy.decide(b, a, action).allowed
    grant = caregivers.invite(a, invitation(b))
    for action in (Action.ACCEPT_CAREGIVER, Action.DECLINE_CAREGIVER):
        decision = policy.decide(b, a, action)
        assert (decision.allowed, decision.mode) == (True, Mode.CAREGIVER)
        assert not policy.decide(c, a, action).allowed
        assert not policy.decide(a, a, action).allowed
    caregivers.answer(b, grant.pk, accept=True)
    assert not policy.decide(b, a, Action.ACCEPT_CAREGIVER).allowed  # answered once


def test_an_answer_takes_the_owner_s_decisions_lock(people):
    (a, _), (b, _) = people["a"], people["b"]
    grant = caregivers.invite(a, invitation(b))
    with CaptureQueriesContext(connection) as queries:
        caregivers.answer(b, grant.pk, accept=True)
    sql = [q["sql"] for q in queries.captured_queries]
    lock = next(i for i, q in enumerate(sql) if "FOR NO KEY UPDATE" in q)
    grant_lock = next(i for i, q in enumerate(sql) if "FOR UPDATE OF" in q)
    assert lock < grant_lock


def test_the_patient_ends_it_and_the_next_request_is_refused(people):
    (a, _), (b, _), (c, _) = people["a"], people["b"], people["c"]
    grant = caregivers.invite(a, invitation(b))
    caregivers.answer(b, grant.pk, accept=True)
    with pytest.raises(caregivers.CaregiverNotFound):
        caregivers.end(c, grant.pk)
    with pytest.raises(caregivers.CaregiverNotFound):
        caregivers.end(b, grant.pk)  # the caregiver ends nothing of the patient's here
    assert policy.decide(b, a, Action.LIST, acting_for=True).allowed
    caregivers.end(a, grant.pk)
    assert not policy.decide(b, a, Action.LIST, acting_for=True).allowed
    with pytest.raises(caregivers.CaregiverNotFound):
        caregivers.end(a, grant.pk)


# --- The page ----------------------------------------------------------------------------------


def form(b, **changes) -> dict[str, str]:
    data = {
        "identifier": b.username,
        "last_name": "LEFEVRE",
        "birth_date": BORN.strftime("%d/%m/%Y"),
        "scope": "manage",
        "until": (timezone.localdate() + timedelta(days=30)).strftime("%d/%m/%Y"),
    }
    data.update(changes)
    return data


def test_the_page_invites_lists_and_the_invited_person_accepts(people):
    (_a, client_a), (b, client_b) = people["a"], people["b"]
    response = client_a.post(URL, form(b))
    assert response.status_code == 302
    grant = CaregiverGrant.objects.get()
    assert grant.scope == "manage"
    page = client_b.get(URL).content.decode()
    assert 'data-testid="invitations"' in page and f"/access/caregivers/{grant.pk}/accept/" in page
    assert client_b.post(f"/access/caregivers/{grant.pk}/accept/").status_code == 302
    assert 'data-testid="helping"' in client_b.get(URL).content.decode()
    assert "Lefèvre" in client_a.get(URL).content.decode()


def _body(response) -> str:
    """The page without its CSRF tokens and the values the form echoes back."""
    return re.sub(r'(<input[^>]*?) value="[^"]*"', r"\1", page_answer(response))


def test_the_page_answers_the_same_whatever_field_is_wrong(people):
    """Byte for byte, once the CSRF token and the echoed values are removed: a wrong identifier,
    last name or birth date, an account without a registry row, and oneself."""
    (a, client_a), (b, _), (c, _) = people["a"], people["b"], people["c"]
    own_row = make_beneficiary(last_name="Durand", born=date(1960, 1, 2))
    own_row.patient = a
    own_row.save(update_fields=["patient"])
    wrongs = {
        "identifier": form(b, identifier="nobody42"),
        "last name": form(b, last_name="Martin"),
        "birth date": form(b, birth_date="05/07/1950"),
        "no registry row": form(c),
        "oneself": form(a, last_name="Durand", birth_date="02/01/1960"),
    }
    bodies = {}
    for case, data in wrongs.items():
        response = client_a.post(URL, data)
        assert response.status_code == 200, case
        bodies[case] = _body(response)
    first = bodies["identifier"]
    assert caregivers.no_match_message().split(":")[0] in first.replace("&#x27;", "'")
    for case, body in bodies.items():
        assert body == first, case
    assert not CaregiverGrant.objects.exists()


def test_a_wrong_form_shows_its_errors_and_changes_nothing(people):
    (_a, client_a), (b, _) = people["a"], people["b"]
    far = (timezone.localdate() + timedelta(days=400)).strftime("%d/%m/%Y")
    for data in (form(b, until=far), form(b, birth_date="31/02/1950"), form(b, scope="all")):
        response = client_a.post(URL, data)
        assert response.status_code == 200
        assert 'class="field-error"' in response.content.decode()
    assert not CaregiverGrant.objects.exists()


def test_a_practitioner_gets_404(people):
    client = practitioner_with_login()[1]
    assert client.get(URL).status_code == 404
    assert not CaregiverGrant.objects.exists()


def test_the_consents_page_leads_to_the_caregivers_page(people):
    _a, client_a = people["a"]
    assert f'href="{URL}"' in client_a.get("/access/").content.decode()


# Each state a grant can be in, and whether the door opens the record then.
STATES = {
    "pending": ({}, False),
    "accepted": ({"accepted": True}, True),
    "last-day": ({"accepted": True, "until_days": 0}, True),
    "past": ({"accepted": True, "until_days": -1}, False),
    "revoked": ({"accepted": True, "reason": "patient"}, False),
    "declined": ({"reason": "declined"}, False),
}


@pytest.mark.parametrize("state", sorted(STATES))
@pytest.mark.parametrize("closed", [False, True])
def test_the_page_agrees_with_the_door_in_every_state(people, state, closed):
    """« Les personnes que j'aide » lists a record exactly when the door lets its caregiver list
    it; the patient's list shows the grant exactly while it is neither ended nor past."""
    (a, _), (b, _) = people["a"], people["b"]
    spec, opens = STATES[state]
    now = timezone.now()
    CaregiverGrant.objects.create(
        patient=a,
        caregiver=b,
        scope="read",
        invited_at=now - timedelta(days=2),
        accepted_at=now if spec.get("accepted") else None,
        until=timezone.localdate() + timedelta(days=spec.get("until_days", 30)),
        revoked_at=now if spec.get("reason") else None,
        revoked_reason=spec.get("reason", ""),
    )
    if closed:
        RecordClosure.objects.create(
            patient=a, reason=ClosureReason.PATIENT, archive_until=timezone.localdate()
        )
    allowed = policy.decide(b, a, Action.LIST, acting_for=True).allowed
    assert allowed == (opens and not closed)
    helping = [row.grant.patient for row in caregivers.caregiver_page(b).helping]
    assert (helping == [a]) == allowed
    shown_to_a = caregivers.caregiver_page(a).caregivers
    assert bool(shown_to_a) == (state in ("pending", "accepted", "last-day"))
