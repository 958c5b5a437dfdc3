"""The door's new relations (issue 17, item 7): a patient acts on another person's record only
through a live legal representation of its owner or a live accepted caregiver grant. Asked of
``policy.decide`` directly, one rule per test; the recorded event through ``policy.authorize``."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from access_control import closure, policy
from access_control.decisions import (
    CAREGIVER_MANAGE_ACTIONS,
    CAREGIVER_READ_ACTIONS,
    CLOSURE_ACTIONS,
    INVITATION_ACTIONS,
    OWNER_ACTIONS,
)
from access_control.models import (
    CaregiverEndReason,
    CaregiverGrant,
    ClosureReason,
    LegalRepresentation,
    RecordClosure,
    RepresentationEndReason,
)
from audit.models import Action, AuditEvent, Mode
from records.models import Document
from tests.accounts.factories import UserFactory
from tests.records.factories import add_document, patient_with_login

pytestmark = pytest.mark.django_db

# Everything a patient may be asked about on a record, the owner's and more.
EVERY_ACTION = sorted(OWNER_ACTIONS | CLOSURE_ACTIONS | INVITATION_ACTIONS)
CAREGIVER_NEVER = sorted(set(EVERY_ACTION) - CAREGIVER_MANAGE_ACTIONS)


@pytest.fixture
def owner():
    return patient_with_login()[0]


@pytest.fixture
def helper():
    return UserFactory(kind="patient")


def grant(owner, caregiver, scope="read", *, accepted=True, until_days=30) -> CaregiverGrant:
    now = timezone.now()
    return CaregiverGrant.objects.create(
        patient=owner,
        caregiver=caregiver,
        scope=scope,
        accepted_at=now if accepted else None,
        until=timezone.localdate(now) + timedelta(days=until_days),
    )


def represent(minor, representative) -> LegalRepresentation:
    return LegalRepresentation.objects.create(
        minor=minor, representative=representative, until=date(2100, 1, 1)
    )


def decide(actor, patient, action, document=None):
    return policy.decide(actor, patient, action, document, acting_for=True)


@pytest.mark.parametrize("action", sorted(INVITATION_ACTIONS))
def test_the_owner_invites_and_ends_caregivers_on_an_open_record_only(owner, action):
    assert decide(owner, owner, action).allowed
    RecordClosure.objects.create(
        patient=owner, reason=ClosureReason.PATIENT, archive_until=timezone.localdate()
    )
    decision = decide(owner, owner, action)
    assert not decision.allowed and decision.reason == "record-closed"


# --- No tie: nothing, as before issue 17 -------------------------------------------------------


@pytest.mark.parametrize("action", EVERY_ACTION)
def test_another_patient_without_a_tie_is_refused(owner, helper, action):
    decision = decide(helper, owner, action)
    assert not decision.allowed and decision.reason == "not-own-record"
    assert decision.mode == Mode.NORMAL


# --- Legal representation ----------------------------------------------------------------------


@pytest.mark.parametrize("action", sorted(OWNER_ACTIONS))
def test_a_representative_does_what_the_owner_may(owner, helper, action):
    represent(owner, helper)
    decision = decide(helper, owner, action)
    assert decision.allowed and decision.reason == "representative"
    assert decision.mode == Mode.REPRESENTATIVE


@pytest.mark.parametrize("action", sorted(CLOSURE_ACTIONS | INVITATION_ACTIONS))
def test_a_representative_never_closes_reopens_nor_invites(owner, helper, action):
    represent(owner, helper)
    decision = decide(helper, owner, action)
    assert not decision.allowed and decision.reason == "owner-only"


def test_a_representative_reads_documents_as_the_owner_does(owner, helper):
    represent(owner, helper)
    document = add_document(owner)
    document.hidden_from_practitioners = True
    assert decide(helper, owner, Action.VIEW, document).allowed
    document.hidden_from_patient_until = timezone.now() + timedelta(days=3)
    decision = decide(helper, owner, Action.VIEW, document)
    assert not decision.allowed and decision.reason == "hidden-from-patient-until"


def test_an_ended_representation_allows_nothing(owner, helper):
    represent(owner, helper)
    LegalRepresentation.objects.update(
        ended_at=timezone.now(), ended_reason=RepresentationEndReason.MAJORITY
    )
    decision = decide(helper, owner, Action.LIST)
    assert not decision.allowed and decision.reason == "not-own-record"


def test_a_representation_of_someone_else_allows_nothing_here(owner, helper):
    represent(UserFactory(kind="patient"), helper)
    assert not decide(helper, owner, Action.LIST).allowed


# --- Caregivers --------------------------------------------------------------------------------


@pytest.mark.parametrize("action", sorted(CAREGIVER_READ_ACTIONS))
def test_a_read_caregiver_reads(owner, helper, action):
    grant(owner, helper, "read")
    decision = decide(helper, owner, action)
    assert decision.allowed and decision.reason == "caregiver"
    assert decision.mode == Mode.CAREGIVER


@pytest.mark.parametrize("action", sorted(CAREGIVER_MANAGE_ACTIONS - CAREGIVER_READ_ACTIONS))
def test_a_read_caregiver_does_not_manage(owner, helper, action):
    grant(owner, helper, "read")
    decision = decide(helper, owner, action)
    assert not decision.allowed and decision.reason == "outside-caregiver-scope"


@pytest.mark.parametrize("action", sorted(CAREGIVER_MANAGE_ACTIONS))
def test_a_manage_caregiver_reads_manages_consents_and_uploads(owner, helper, action):
    grant(owner, helper, "manage")
    assert decide(helper, owner, action).allowed


@pytest.mark.parametrize("action", CAREGIVER_NEVER)
def test_a_caregiver_never_exports_closes_blocks_hides_deletes(owner, helper, action):
    grant(owner, helper, "manage")
    decision = decide(helper, owner, action)
    assert not decision.allowed and decision.mode == Mode.CAREGIVER


@pytest.mark.parametrize("scope", ["read", "manage"])
def test_a_caregiver_reads_the_history(owner, helper, scope):
    # Back in their scope once the history leaves out what is hidden from them (review,
    # finding 3: access_control.history.helper_events, tests/access_control/test_acting.py).
    grant(owner, helper, scope)
    decision = decide(helper, owner, Action.VIEW_HISTORY)
    assert decision.allowed and decision.reason == "caregiver"
    assert decision.mode == Mode.CAREGIVER


def test_the_forbidden_list_names_the_issue_s_actions():
    for action in (Action.EXPORT, Action.CLOSE_RECORD, Action.BLOCK, Action.INVITE_CAREGIVER):
        assert action in CAREGIVER_NEVER


def test_a_caregiver_never_sees_a_document_hidden_from_practitioners(owner, helper):
    grant(owner, helper, "manage")
    document = add_document(owner)
    assert decide(helper, owner, Action.VIEW, document).allowed
    document.hidden_from_practitioners = True
    decision = decide(helper, owner, Action.VIEW, document)
    assert not decision.allowed and decision.reason == "hidden-from-caregiver"
    document.hidden_from_practitioners = False
    document.hidden_by_author = True
    assert not decide(helper, owner, Action.DOWNLOAD, document).allowed


def test_a_caregiver_never_sees_a_document_held_back(owner, helper):
    grant(owner, helper, "read")
    document = add_document(owner)
    document.hidden_from_patient_until = timezone.now() + timedelta(days=3)
    decision = decide(helper, owner, Action.VIEW, document)
    assert not decision.allowed and decision.reason == "hidden-from-caregiver"


def test_a_caregiver_s_list_leaves_hidden_documents_out(owner, helper):
    grant(owner, helper, "read")
    shown = add_document(owner, title="Visible")
    hidden = add_document(owner, title="Masqué")
    Document.objects.filter(pk=hidden.pk).update(hidden_from_practitioners=True)
    listed = Document.objects.filter(policy.access_to(helper, owner, acting_for=True).documents())
    assert list(listed) == [shown]
    # The owner's and a representative's lists have both.
    assert Document.objects.filter(policy.access_to(owner, owner).documents()).count() == 2
    other = UserFactory(kind="patient")
    represent(owner, other)
    assert (
        Document.objects.filter(policy.access_to(other, owner, acting_for=True).documents()).count()
        == 2
    )
    # Someone without a tie: nothing.
    stranger = UserFactory(kind="patient")
    assert not Document.objects.filter(
        policy.access_to(stranger, owner, acting_for=True).documents()
    ).exists()


def test_a_pending_invitation_allows_nothing(owner, helper):
    grant(owner, helper, "manage", accepted=False)
    assert not decide(helper, owner, Action.LIST).allowed


def test_a_grant_past_its_last_day_allows_nothing(owner, helper):
    grant(owner, helper, "read", until_days=0)
    assert decide(helper, owner, Action.LIST).allowed  # its last day: still covered
    CaregiverGrant.objects.update(until=timezone.localdate() - timedelta(days=1))
    assert not decide(helper, owner, Action.LIST).allowed


def test_a_revoked_grant_allows_nothing_on_the_next_request(owner, helper):
    grant(owner, helper, "read")
    CaregiverGrant.objects.update(
        revoked_at=timezone.now(), revoked_reason=CaregiverEndReason.PATIENT
    )
    decision = decide(helper, owner, Action.LIST)
    assert not decision.allowed and decision.reason == "not-own-record"


def test_a_grant_works_one_way_only(owner, helper):
    grant(owner, helper, "manage")
    helper_record_document = add_document(patient_with_login()[0])
    assert not decide(owner, helper, Action.LIST).allowed
    assert not decide(helper, owner, Action.VIEW, helper_record_document).allowed


# --- A closed record ---------------------------------------------------------------------------


@pytest.mark.parametrize("tie", ["representative", "caregiver"])
def test_a_closed_record_refuses_both_and_its_closure_ends_them(owner, helper, tie):
    if tie == "representative":
        represent(owner, helper)
    else:
        grant(owner, helper, "manage")
        pending = grant(owner, UserFactory(kind="patient"), "read", accepted=False)
    with transaction.atomic():
        closure._close(owner, ClosureReason.PATIENT, timezone.now())
    decision = decide(helper, owner, Action.LIST)
    assert not decision.allowed
    if tie == "representative":
        row = LegalRepresentation.objects.get()
        assert row.ended_at is not None and row.ended_reason == "closure"
    else:
        assert not CaregiverGrant.objects.unrevoked().exists()
        pending.refresh_from_db()
        assert pending.revoked_reason == "closure"


def test_a_closed_record_refuses_a_tie_still_live(owner, helper):
    # The door does not rely on the closure having ended the tie.
    represent(owner, helper)
    caregiver = UserFactory(kind="patient")
    grant(owner, caregiver, "read")
    assert decide(caregiver, owner, Action.LIST).allowed  # live before the closure
    RecordClosure.objects.create(
        patient=owner, reason=ClosureReason.PATIENT, archive_until=timezone.localdate()
    )
    decision = decide(helper, owner, Action.LIST)
    assert not decision.allowed and decision.reason == "record-closed"
    assert decision.mode == Mode.REPRESENTATIVE
    decision = decide(caregiver, owner, Action.LIST)
    assert not decision.allowed and decision.reason == "record-closed"
    assert decision.mode == Mode.CAREGIVER


# --- The trail ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tie", "mode"), [("representative", Mode.REPRESENTATIVE), ("caregiver", Mode.CAREGIVER)]
)
def test_every_decision_is_recorded_with_the_helper_as_actor_and_the_owner_as_patient(
    owner, helper, tie, mode
):
    if tie == "representative":
        represent(owner, helper)
    else:
        grant(owner, helper, "read")
    with transaction.atomic():
        allowed = policy.authorize(helper, owner, Action.LIST, acting_for=True)
        refused = policy.authorize(helper, owner, Action.CLOSE_RECORD, acting_for=True)
    assert allowed.allowed and not refused.allowed
    for decision in (allowed, refused):
        event = AuditEvent.objects.get(pk=decision.event_id)
        assert (event.actor_id, event.patient_id, event.mode) == (helper.pk, owner.pk, mode)
