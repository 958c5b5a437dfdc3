"""Closing a record (issue 16, item 4): what ends, who is refused, what the patient keeps, and
reopening. Through the pages, with the password and a fresh second factor."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext

from access_control import caregivers, closure, policy
from access_control.decisions import RECORD_CLOSED
from access_control.models import (
    AccessRequest,
    CaregiverEndReason,
    CaregiverGrant,
    ClosureReason,
    Consent,
    EmergencyAccess,
    LegalRepresentation,
    RecordClosure,
    RepresentationEndReason,
    RevocationReason,
    TreatingPhysician,
)
from audit.models import Action, AuditEvent
from tests.access_control.factories import (
    ask_access,
    enrolled_patient,
    grant,
    look_up,
    practitioner_with_login,
)
from tests.accounts.factories import PASSWORD, StaffFactory, logged_in_client, next_totp_token
from tests.records.factories import add_document, patient_with_login

pytestmark = pytest.mark.django_db

CLOSE = "/records/close/"
REOPEN = "/records/reopen/"


def code(user) -> str:
    return next_totp_token(user.totpdevice_set.get())


def close(client: Client, patient, **data):
    return client.post(CLOSE, {"password": PASSWORD, "otp_token": code(patient), **data})


def reopen(client: Client, patient, **data):
    return client.post(REOPEN, {"password": PASSWORD, "otp_token": code(patient), **data})


def snapshot(patient) -> tuple:
    """What a refused closure must leave as it was."""
    return (
        list(RecordClosure.objects.filter(patient=patient).values_list("pk", "reason")),
        sorted(Consent.objects.filter(patient=patient).values_list("pk", "revoked_at")),
        sorted(AccessRequest.objects.filter(patient=patient).values_list("pk", "decided_at")),
        sorted(EmergencyAccess.objects.filter(patient=patient).values_list("pk", "ends_at")),
        list(TreatingPhysician.objects.filter(patient=patient).values_list("pk", flat=True)),
    )


def test_closing_ends_every_link_at_once_and_practitioners_are_refused():
    patient, client, _nir = enrolled_patient()
    document = add_document(patient, title="Bilan sanguin")
    reader, reader_client = practitioner_with_login()
    asker, _asker_client = practitioner_with_login()
    urgent, _urgent_client = practitioner_with_login()
    grant(client, reader.rpps)
    assert reader_client.get(f"/pro/patients/{patient.pk}/").status_code == 200
    TreatingPhysician.objects.create(patient=patient, physician=reader.user)
    AccessRequest.objects.create(patient=patient, practitioner=asker.user)
    EmergencyAccess.objects.create(
        patient=patient,
        practitioner=urgent.user,
        reason="patient inconscient aux urgences",
        ends_at=timezone.now() + timedelta(minutes=30),
    )

    response = close(client, patient)

    assert response.status_code == 302 and response["Location"] == "/summary/"
    row = RecordClosure.objects.get(patient=patient)
    today = timezone.localdate()
    assert row.reason == ClosureReason.PATIENT
    assert row.archive_until == today.replace(year=today.year + 10)
    consent = Consent.objects.get(patient=patient, practitioner=reader.user)
    assert consent.revoked_at == row.closed_at
    assert consent.revoked_reason == RevocationReason.CLOSURE
    request = AccessRequest.objects.get(patient=patient)
    assert request.decided_at == row.closed_at and request.accepted is False
    assert EmergencyAccess.objects.get(patient=patient).ends_at == row.closed_at
    assert not TreatingPhysician.objects.filter(patient=patient).exists()
    assert AuditEvent.objects.filter(
        patient=patient, actor=patient, action=Action.CLOSE_RECORD, outcome="allowed"
    ).exists()
    # The practitioner with the former consent: the record page and the download are refused,
    # and each refusal is recorded with its reason.
    assert reader_client.get(f"/pro/patients/{patient.pk}/").status_code == 404
    assert reader_client.get(f"/records/{document.uid}/download/").status_code == 404
    assert (
        AuditEvent.objects.filter(
            patient=patient, actor=reader.user, outcome="refused", reason=RECORD_CLOSED
        ).count()
        == 2
    )


def test_a_practitioner_learns_nothing_of_a_closure(django_capture_on_commit_callbacks):
    """The look-up finds the record and the request is answered as for any record without
    access; an emergency gets the answer of an opt-out. Neither says "closed"."""
    closed, closed_client, closed_nir = enrolled_patient()
    _open, _open_client, open_nir = enrolled_patient()
    assert close(closed_client, closed).status_code == 302
    profile, pro = practitioner_with_login()
    look_up(pro, closed_nir)  # the page offers to ask and to declare an emergency, as for any
    with django_capture_on_commit_callbacks(execute=True):  # the task that writes requests
        asked_closed = ask_access(pro, closed_nir)
        asked_open = ask_access(pro, open_nir)
    assert asked_closed.status_code == asked_open.status_code
    assert asked_closed["Location"] == asked_open["Location"]
    assert not AccessRequest.objects.filter(patient=closed).exists()
    assert AccessRequest.objects.filter(patient=_open).exists()
    decision = policy.decide(profile.user, closed, Action.LOOKUP)
    assert decision.allowed and decision.reason == "found"
    assert policy.decide(profile.user, closed, Action.EMERGENCY).reason == RECORD_CLOSED


def test_closing_needs_the_password_and_the_second_factor_and_nothing_changes_without():
    patient, client, _nir = enrolled_patient()
    reader, _reader_client = practitioner_with_login()
    grant(client, reader.rpps)
    before = snapshot(patient)

    no_code = client.post(CLOSE, {"password": PASSWORD, "otp_token": ""})
    assert no_code.status_code == 200
    assert "Saisissez le code de sécurité." in no_code.content.decode()

    wrong_code = client.post(CLOSE, {"password": PASSWORD, "otp_token": "000000"})
    assert "Ce code n&#x27;est pas valide." in wrong_code.content.decode()

    wrong_password = close(client, patient, password="not my password at all")
    assert escape("Ce n'est pas votre mot de passe actuel.") in wrong_password.content.decode()

    assert snapshot(patient) == before
    refusals = AuditEvent.objects.filter(
        patient=patient, action=Action.CLOSE_RECORD, outcome="refused"
    ).values_list("reason", flat=True)
    assert sorted(refusals) == ["second-factor-failed", "wrong-password"]


def test_closing_a_closed_record_says_so_and_changes_nothing():
    patient, client, _nir = enrolled_patient()
    assert close(client, patient).status_code == 302
    before = snapshot(patient)
    page = client.get(CLOSE).content.decode()
    assert 'name="otp_token"' not in page  # no form: the page says it is closed
    again = close(client, patient)
    assert again.status_code == 200
    assert escape(gettext("Your record is already closed: nothing was changed.")) in (
        again.content.decode()
    )
    assert snapshot(patient) == before
    assert AuditEvent.objects.filter(
        patient=patient, action=Action.CLOSE_RECORD, outcome="refused", reason="already-closed"
    ).exists()


def test_a_practitioner_or_staff_posting_close_gets_404_and_changes_nothing():
    patient, client, _nir = enrolled_patient()
    profile, pro = practitioner_with_login()
    grant(client, profile.rpps)
    before = snapshot(patient)
    for path in (CLOSE, REOPEN):
        assert pro.get(path).status_code == 404
        assert (
            pro.post(path, {"password": PASSWORD, "otp_token": code(profile.user)}).status_code
            == 404
        )
    staff = logged_in_client(StaffFactory.create())
    assert staff.get(CLOSE).status_code == 404
    assert staff.post(CLOSE, {"password": PASSWORD, "otp_token": "000000"}).status_code == 404
    assert snapshot(patient) == before
    assert not RecordClosure.objects.exists()
    # Another patient closes their own record only.
    other, other_client = patient_with_login()
    assert close(other_client, other).status_code == 302
    assert snapshot(patient) == before
    assert RecordClosure.objects.get().patient == other


@pytest.mark.csrf_raw
def test_closing_without_the_csrf_token_is_refused():
    patient, client, _nir = enrolled_patient()
    forged = client.post(CLOSE, {"password": PASSWORD, "otp_token": code(patient)})
    assert forged.status_code == 403
    assert not RecordClosure.objects.exists()
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.cookies = client.cookies
    assert csrf_client.post(REOPEN, {"password": PASSWORD}).status_code == 403


def test_the_patient_of_a_closed_record_reads_it_and_is_told_why_nothing_else_works():
    patient, client, _nir = enrolled_patient()
    document = add_document(patient, title="Compte rendu d'IRM")
    assert close(client, patient).status_code == 302
    closed_banner = escape(gettext("Your record is closed"))
    for path in ("/summary/", "/records/"):
        page = client.get(path).content.decode()
        assert closed_banner in page and "/records/reopen/" in page, path
        assert "/records/upload/" not in page.split("<main", 1)[1], path
    assert client.get(f"/records/{document.uid}/").status_code == 200
    assert client.get(f"/records/{document.uid}/download/").status_code == 200
    assert client.get("/access/history/").status_code == 200
    message = escape(closure.closed_record_message())
    upload = client.get("/records/upload/", follow=True)
    assert message in upload.content.decode()
    hide = client.post(f"/records/{document.uid}/hide/", follow=True)
    assert message in hide.content.decode()
    document.refresh_from_db()
    assert document.hidden_from_practitioners is False
    # Each refusal was the door's, and is in the trail.
    refused = AuditEvent.objects.filter(patient=patient, outcome="refused", reason="record-closed")
    assert {"upload", "hide"} <= set(refused.values_list("action", flat=True))
    reader, _reader_client = practitioner_with_login()
    granted = grant(client, reader.rpps)
    assert message in granted.content.decode()
    assert not Consent.objects.filter(patient=patient).exists()


def test_reopening_gives_nothing_back_until_the_patient_grants_again():
    patient, client, _nir = enrolled_patient()
    add_document(patient, title="Bilan sanguin")
    reader, reader_client = practitioner_with_login()
    grant(client, reader.rpps)
    assert close(client, patient).status_code == 302
    # Reopening needs the second factor too.
    assert client.post(REOPEN, {"password": PASSWORD, "otp_token": "000000"}).status_code == 200
    assert RecordClosure.objects.filter(patient=patient).exists()

    response = reopen(client, patient)

    assert response.status_code == 302
    assert not RecordClosure.objects.filter(patient=patient).exists()
    assert AuditEvent.objects.filter(
        patient=patient, action=Action.REOPEN_RECORD, outcome="allowed"
    ).exists()
    assert gettext("Your record is closed") not in client.get("/records/").content.decode()
    assert reader_client.get(f"/pro/patients/{patient.pk}/").status_code == 404
    grant(client, reader.rpps)
    assert reader_client.get(f"/pro/patients/{patient.pk}/").status_code == 200
    # An open record: nothing to reopen.
    again = reopen(client, patient)
    assert escape(gettext("Your record is open: there is nothing to reopen.")) in (
        again.content.decode()
    )


def test_a_record_past_its_archive_period_cannot_be_reopened():
    patient, client, _nir = enrolled_patient()
    assert close(client, patient).status_code == 302
    RecordClosure.objects.filter(patient=patient).update(
        archive_until=timezone.localdate() - timedelta(days=1)
    )
    refused = reopen(client, patient)
    assert refused.status_code == 200
    assert RecordClosure.objects.filter(patient=patient).exists()
    assert AuditEvent.objects.filter(
        patient=patient, action=Action.REOPEN_RECORD, reason="archive-period-ended"
    ).exists()


def test_the_door_on_a_closed_record():
    patient, _client = patient_with_login()
    profile, _pro = practitioner_with_login()
    Consent.objects.create(patient=patient, practitioner=profile.user)
    RecordClosure.objects.create(
        patient=patient,
        reason=ClosureReason.PATIENT,
        archive_until=closure.archive_end(timezone.localdate()),
    )
    for action in (Action.LIST, Action.VIEW_HISTORY, Action.REOPEN_RECORD):
        assert policy.decide(patient, patient, action).allowed, action
    for action in (Action.UPLOAD, Action.GRANT, Action.HIDE, Action.DELETE, Action.CLOSE_RECORD):
        assert not policy.decide(patient, patient, action).allowed, action
    # Even a live consent left behind opens nothing, not even the list's filter.
    access = policy.access_to(profile.user, patient)
    assert access.decide(Action.LIST).reason == RECORD_CLOSED
    assert policy.visible_documents(profile.user, patient) == policy.NOTHING
    RecordClosure.objects.filter(patient=patient).update(reason=ClosureReason.DEATH)
    assert policy.decide(patient, patient, Action.REOPEN_RECORD).reason == "closed-by-death"


def test_the_archive_ends_ten_years_after_the_closure_day():
    assert closure.archive_end(date(2026, 3, 1)) == date(2036, 3, 1)
    assert closure.archive_end(date(2028, 2, 29)) == date(2038, 2, 28)


def test_wrong_passwords_are_throttled_then_even_the_right_one_waits():
    """The password change's limit: after it, the right password and code are refused too, in
    French, and nothing closes until the cool-off ends."""
    patient, client, _nir = enrolled_patient()
    for _attempt in range(settings.LOGIN_FAILURES_PER_ACCOUNT):
        close(client, patient, password="pas le bon mot de passe")
    refused = close(client, patient).content.decode()
    assert "Trop de tentatives" in refused
    assert not RecordClosure.objects.filter(patient=patient).exists()


# --- Ties held on other people's records (issue 17) ---------------------------------------------


def ties_held_by(helper):
    """A helper who is the caregiver of one person (accepted), invited by another (pending), the
    representative of a child, and has a caregiver of their own."""
    helped, _c = patient_with_login()
    inviting, _c = patient_with_login()
    child, _c = patient_with_login()
    own_caregiver, _c = patient_with_login()
    until = timezone.localdate() + timedelta(days=30)
    held = [
        CaregiverGrant.objects.create(
            patient=helped, caregiver=helper, scope="read", until=until, accepted_at=timezone.now()
        ),
        CaregiverGrant.objects.create(
            patient=inviting, caregiver=helper, scope="read", until=until
        ),
    ]
    representation = LegalRepresentation.objects.create(
        minor=child, representative=helper, until=until
    )
    own = CaregiverGrant.objects.create(
        patient=helper, caregiver=own_caregiver, scope="read", until=until
    )
    return helped, held, representation, own


@pytest.mark.parametrize("closed_first", [False, True])
def test_a_death_ends_the_ties_the_dead_person_held_on_other_records(closed_first):
    """Those they helped no longer see them among their caregivers; a record the dead person had
    closed themselves (its ties held then left alone) ends them too."""
    helper, helper_client, _nir = enrolled_patient()
    helped, held, representation, own = ties_held_by(helper)
    if closed_first:
        assert close(helper_client, helper).status_code == 302
    proposer, confirmer = StaffFactory.create(), StaffFactory.create()
    proposal = closure.propose_death(proposer, helper.pk)
    closure.decide_death(confirmer, proposal.pk, confirm=True)
    for row in held:
        row.refresh_from_db()
        assert row.revoked_at is not None
        assert row.revoked_reason == CaregiverEndReason.CAREGIVER_DEATH
    representation.refresh_from_db()
    assert representation.ended_at is not None
    assert representation.ended_reason == RepresentationEndReason.REPRESENTATIVE_DEATH
    own.refresh_from_db()
    assert own.revoked_reason == CaregiverEndReason.CLOSURE  # the ties to their own record
    assert caregivers.caregiver_page(helped).caregivers == []
    assert not policy.decide(helper, helped, Action.LIST, acting_for=True).allowed


def test_closing_one_s_own_record_leaves_the_help_one_gives():
    """A closure by the patient is about their own record: the people they help or represent
    keep them (those people alone, or the child's majority, end it)."""
    helper, helper_client, _nir = enrolled_patient()
    helped, held, representation, own = ties_held_by(helper)
    assert close(helper_client, helper).status_code == 302
    for row in held:
        row.refresh_from_db()
        assert row.revoked_at is None
    representation.refresh_from_db()
    assert representation.ended_at is None
    own.refresh_from_db()
    assert own.revoked_reason == CaregiverEndReason.CLOSURE
    assert [row.name for row in caregivers.caregiver_page(helped).caregivers] != []
    assert policy.decide(helper, helped, Action.LIST, acting_for=True).allowed


def test_the_close_and_reopen_pages_name_caregivers_and_legal_representatives():
    patient, client, _nir = enrolled_patient()
    page = client.get(CLOSE).content.decode()
    for sentence in (
        "Every access to your record ends at once: consents, your treating physician, your "
        "caregivers and the invitations they have not answered yet, legal representatives, "
        "requests waiting for your answer and emergency accesses in progress.",
        "The help you give others does not end: you remain the caregiver or the legal "
        "representative of the people concerned.",
    ):
        assert gettext(sentence) in page  # {% translate %} does not escape
    assert close(client, patient).status_code == 302
    reopen_page = client.get(REOPEN).content.decode()
    assert (
        gettext(
            "Once reopened, you can add documents and give access again. The accesses the "
            "closure ended do not come back, those of legal representatives included: health "
            "professionals read your record again only once you give them access again, and "
            "caregivers only once you invite them again and they accept."
        )
        in reopen_page
    )
