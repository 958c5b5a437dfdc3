"""Staff record a death with four eyes (issue 16, item 4): one proposes, another confirms; the
proposer never confirms. Confirming closes the record for good and ends the account's use."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils.translation import ngettext

from access_control import closure, deaths
from access_control.decisions import FOUR_EYES_OWN_PROPOSAL
from access_control.models import (
    ClosureReason,
    Consent,
    DeathProposal,
    DeathProposalState,
    RecordClosure,
    RevocationReason,
)
from accounts.models import User
from audit.models import Action, AuditEvent
from tests.access_control.factories import enrolled_patient, grant, practitioner_with_login
from tests.accounts.factories import PASSWORD, StaffFactory, logged_in_client, next_totp_token
from tests.enrollment.factories import make_beneficiary, make_nir
from tests.records.factories import add_document

pytestmark = pytest.mark.django_db

LIST = "/admin/access_control/deathproposal/"
PROPOSE = LIST + "propose/"
SECRET_TITLE = "Compte rendu oncologique confidentiel"


def review(proposal: DeathProposal) -> str:
    return f"{LIST}{proposal.pk}/review/"


def staff_member() -> tuple[User, Client]:
    staff = StaffFactory.create()
    return staff, logged_in_client(staff)


def test_a_death_takes_two_staff_members_and_closes_the_record_for_good():
    patient, client, nir = enrolled_patient()
    add_document(patient, title=SECRET_TITLE)
    reader, reader_client = practitioner_with_login()
    grant(client, reader.rpps)
    proposer, proposer_client = staff_member()
    confirmer, confirmer_client = staff_member()

    proposed = proposer_client.post(PROPOSE, {"nir": nir})
    assert proposed.status_code == 302
    proposal = DeathProposal.objects.get(patient=patient)
    assert proposal.state == DeathProposalState.PENDING and proposal.proposed_by == proposer
    assert not RecordClosure.objects.filter(patient=patient).exists()  # nothing yet
    assert client.get("/records/").status_code == 200
    queue = ngettext(
        "%(counter)s death waiting for a second staff member",
        "%(counter)s deaths waiting for a second staff member",
        1,
    ) % {"counter": 1}
    assert queue in confirmer_client.get("/staff/").content.decode()  # French, as translated

    # The proposer cannot confirm: refused by the door, recorded, nothing changes.
    own = proposer_client.post(review(proposal), {"decision": "confirm"}, follow=True)
    assert "un autre membre" in own.content.decode() or "another staff member" in (
        own.content.decode()
    )
    proposal.refresh_from_db()
    assert proposal.state == DeathProposalState.PENDING
    assert AuditEvent.objects.filter(
        patient=patient,
        actor=proposer,
        action=Action.CONFIRM_DEATH,
        outcome="refused",
        reason=FOUR_EYES_OWN_PROPOSAL,
    ).exists()
    with pytest.raises(ValidationError):
        closure.decide_death(proposer, proposal.pk, confirm=True)

    # The second staff member sees whom they close, never the record's content.
    page = confirmer_client.get(review(proposal)).content.decode()
    assert SECRET_TITLE not in page
    assert confirmer_client.post(review(proposal), {"decision": "confirm"}).status_code == 302

    proposal.refresh_from_db()
    assert proposal.state == DeathProposalState.CONFIRMED and proposal.decided_by == confirmer
    row = RecordClosure.objects.get(patient=patient)
    assert row.reason == ClosureReason.DEATH
    consent = Consent.objects.get(patient=patient, practitioner=reader.user)
    assert consent.revoked_reason == RevocationReason.CLOSURE
    assert reader_client.get(f"/pro/patients/{patient.pk}/").status_code == 404
    for action, actor in ((Action.PROPOSE_DEATH, proposer), (Action.CONFIRM_DEATH, confirmer)):
        assert AuditEvent.objects.filter(
            patient=patient, actor=actor, action=action, outcome="allowed"
        ).exists()
    # The account's sessions ended, and it can no longer log in nor reopen the record.
    assert client.get("/records/").status_code == 302
    patient.refresh_from_db()
    assert not patient.is_active and not patient.has_usable_password()
    login = Client().post("/accounts/login/", {"username": patient.username, "password": PASSWORD})
    assert "_auth_user_id" not in login.wsgi_request.session
    with pytest.raises(closure.ClosureRefused):
        closure.reopen_record(patient, password=PASSWORD, otp_token="")


def test_a_rejected_death_changes_nothing():
    patient, client, nir = enrolled_patient()
    _proposer, proposer_client = staff_member()
    _other, other_client = staff_member()
    proposer_client.post(PROPOSE, {"nir": nir})
    proposal = DeathProposal.objects.get(patient=patient)
    assert other_client.post(review(proposal), {"decision": "reject"}).status_code == 302
    proposal.refresh_from_db()
    assert proposal.state == DeathProposalState.REJECTED
    assert not RecordClosure.objects.exists()
    assert client.get("/records/").status_code == 200


def test_a_death_proposal_needs_a_person_with_a_record_and_only_one_at_a_time():
    patient, _client, nir = enrolled_patient()
    _staff, staff_client = staff_member()
    bad = staff_client.post(PROPOSE, {"nir": "123"})
    assert bad.status_code == 200 and not DeathProposal.objects.exists()
    # Born in another year than every person the factories make here: in nobody's registry entry
    # (a fixed number could be the enrolled patient's, whose serial runs with the test order).
    unknown = staff_client.post(PROPOSE, {"nir": make_nir(born=date(1990, 1, 1))})
    assert unknown.status_code == 200 and not DeathProposal.objects.exists()
    assert staff_client.post(PROPOSE, {"nir": nir}).status_code == 302
    twice = staff_client.post(PROPOSE, {"nir": nir})
    assert twice.status_code == 200
    assert DeathProposal.objects.filter(patient=patient).count() == 1


def test_a_patient_closure_then_a_death_keeps_the_archive_period():
    patient, client, nir = enrolled_patient()
    code = next_totp_token(patient.totpdevice_set.get())
    client.post("/records/close/", {"password": PASSWORD, "otp_token": code})
    archive_until = RecordClosure.objects.get(patient=patient).archive_until
    proposer, _proposer_client = staff_member()
    confirmer, _confirmer_client = staff_member()
    proposal = closure.propose_death(proposer, patient.pk)
    closure.decide_death(confirmer, proposal.pk, confirm=True)
    row = RecordClosure.objects.get(patient=patient)
    assert row.reason == ClosureReason.DEATH and row.archive_until == archive_until


def test_the_database_refuses_a_death_confirmed_by_its_proposer():
    patient, _client, _nir = enrolled_patient()
    staff, _staff_client = staff_member()
    proposal = DeathProposal.objects.create(patient=patient, proposed_by=staff)
    with pytest.raises(IntegrityError), transaction.atomic():
        DeathProposal.objects.filter(pk=proposal.pk).update(decided_by=staff)


def test_non_staff_cannot_reach_the_death_pages():
    patient, client, nir = enrolled_patient()
    _profile, pro = practitioner_with_login()
    for who in (client, pro):
        assert who.get(PROPOSE).status_code == 302  # to the admin's login
        who.post(PROPOSE, {"nir": nir})
    assert not DeathProposal.objects.exists()


def identity_reads() -> int:
    return AuditEvent.objects.filter(action=Action.VIEW_IDENTITY).count()


def test_the_review_reads_the_identity_only_when_there_is_something_to_decide():
    """The identity is decrypted (and its read recorded) for another staff member reviewing a
    pending proposal only: never for its proposer, nor once the proposal is decided."""
    patient, _client, nir = enrolled_patient()
    proposer, proposer_client = staff_member()
    _other, other_client = staff_member()
    proposal = deaths.propose_death_by_nir(proposer, nir)
    assert proposal.patient == patient

    before = identity_reads()
    own = proposer_client.get(review(proposal))
    assert own.status_code == 200 and own.context["person"] is None
    assert "Dupont" not in own.content.decode() and identity_reads() == before

    pending = other_client.get(review(proposal))
    assert "Dupont" in pending.content.decode() and identity_reads() == before + 1

    closure.decide_death(_other, proposal.pk, confirm=False)
    for reader in (other_client, proposer_client):
        decided = reader.get(review(proposal))
        assert decided.status_code == 200 and decided.context["person"] is None
        page = decided.content.decode()
        assert "Dupont" not in page and "Léa" not in page
        assert "déjà été" in page or "already decided" in page
    assert identity_reads() == before + 1


def test_proposing_by_nir_needs_someone_in_the_registry_with_a_record():
    staff, _staff_client = staff_member()
    without_record = make_beneficiary()
    with pytest.raises(ValidationError):
        deaths.propose_death_by_nir(staff, "185057800608491")
    with pytest.raises(ValidationError):
        deaths.propose_death_by_nir(staff, without_record.nir)
    assert not DeathProposal.objects.exists()
    # Each look-up is recorded, the NIR never.
    lookups = AuditEvent.objects.filter(action=Action.LOOKUP, actor=staff)
    assert lookups.count() == 2
