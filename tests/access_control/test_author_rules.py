"""The door's rules for a document's author (issue 16): a practitioner author within consent may
replace, hold, reveal, withdraw, hide and show their own current document; the patient may
replace a document they added; nobody else, and never through an earlier version (which is read
as its current version is). Asked of ``policy.decide`` directly, one rule per test."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from access_control import policy
from access_control.decisions import AUTHOR_ACTIONS
from access_control.models import Block, Consent, EmergencyAccess, TreatingPhysician
from audit.models import Action
from records.models import Document, DocumentStatus
from tests.access_control.factories import practitioner_with_login
from tests.records.factories import add_document, patient_with_login

pytestmark = pytest.mark.django_db

PRACTITIONER_ONLY = AUTHOR_ACTIONS - {Action.REPLACE, Action.HIDE, Action.SHOW}


@pytest.fixture
def record():
    patient, _client = patient_with_login()
    author = practitioner_with_login()[0].user
    other = practitioner_with_login()[0].user
    Consent.objects.create(patient=patient, practitioner=author)
    Consent.objects.create(patient=patient, practitioner=other)
    document = add_document(patient, title="Compte rendu", author=author)
    return patient, author, other, document


def allowed(actor, patient, action, document) -> bool:
    return policy.decide(actor, patient, action, document).allowed


@pytest.mark.parametrize("action", sorted(AUTHOR_ACTIONS))
def test_a_practitioner_author_within_consent_may_act_on_their_document(record, action):
    patient, author, _other, document = record
    # Still held back from the patient: a hold postpones the reveal (see the next test).
    document.hidden_from_patient_until = timezone.now() + timedelta(days=3)
    decision = policy.decide(author, patient, action, document)
    assert decision.allowed and decision.reason == "author"


def test_a_document_shown_to_the_patient_is_never_held_back_again(record):
    patient, author, _other, document = record
    decision = policy.decide(author, patient, Action.HOLD, document)
    assert not decision.allowed and decision.reason == "shown-to-patient"
    # Nor once the hold's delay is over (the daily reveal may not have run yet).
    document.hidden_from_patient_until = timezone.now() - timedelta(minutes=1)
    assert not policy.decide(author, patient, Action.HOLD, document).allowed


@pytest.mark.parametrize("action", sorted(AUTHOR_ACTIONS))
def test_another_practitioner_with_consent_may_not(record, action):
    patient, _author, other, document = record
    # Even their treating physician, who reads hidden documents.
    TreatingPhysician.objects.create(patient=patient, physician=other)
    decision = policy.decide(other, patient, action, document)
    assert not decision.allowed and decision.reason == "not-author"


@pytest.mark.parametrize("action", sorted(AUTHOR_ACTIONS))
def test_the_author_without_consent_may_not(record, action):
    patient, author, _other, document = record
    Consent.objects.filter(practitioner=author).update(revoked_at=timezone.now())
    assert not allowed(author, patient, action, document)
    # Nor in an emergency: reads only.
    EmergencyAccess.objects.create(
        patient=patient,
        practitioner=author,
        reason="Patient inconscient",
        ends_at=timezone.now() + timedelta(hours=1),
    )
    assert not allowed(author, patient, action, document)


@pytest.mark.parametrize("action", sorted(AUTHOR_ACTIONS))
def test_a_blocked_author_may_not(record, action):
    patient, author, _other, document = record
    Block.objects.create(patient=patient, practitioner=author)
    assert not allowed(author, patient, action, document)


@pytest.mark.parametrize("action", sorted(PRACTITIONER_ONLY))
def test_the_patient_may_not_hold_reveal_nor_withdraw(record, action):
    patient, _author, _other, document = record
    own = add_document(patient, title="Mon document")
    assert not allowed(patient, patient, action, document)
    assert not allowed(patient, patient, action, own)


def test_the_patient_replaces_only_a_document_they_added(record):
    patient, _author, _other, document = record
    own = add_document(patient, title="Mon document")
    assert allowed(patient, patient, Action.REPLACE, own)
    decision = policy.decide(patient, patient, Action.REPLACE, document)
    assert not decision.allowed and decision.reason == "not-author"
    stranger, _ = patient_with_login()
    assert not allowed(stranger, patient, Action.REPLACE, own)


def test_an_earlier_version_is_read_as_its_current_one_and_never_changed(record):
    patient, author, other, document = record
    newer = add_document(patient, title="Compte rendu corrigé", author=author)
    Document.objects.filter(pk=newer.pk).update(replaces=document)
    Document.objects.filter(pk=document.pk).update(status=DocumentStatus.REPLACED)
    document.refresh_from_db()
    for reader in (patient, author, other):
        assert allowed(reader, patient, Action.VIEW, document)
        assert allowed(reader, patient, Action.DOWNLOAD, document)
    for action in AUTHOR_ACTIONS:
        decision = policy.decide(author, patient, action, document)
        assert not decision.allowed and decision.reason == "not-current"
    # The current version hidden by its author: the earlier one with it.
    Document.objects.filter(pk=newer.pk).update(hidden_by_author=True)
    assert not allowed(other, patient, Action.VIEW, document)
    assert allowed(patient, patient, Action.VIEW, document)
    # The current version held back from the patient: the earlier one with it.
    later = timezone.now() + timedelta(days=3)
    Document.objects.filter(pk=newer.pk).update(hidden_from_patient_until=later)
    assert not allowed(patient, patient, Action.VIEW, document)
    # The current version withdrawn: the earlier one with it, for everyone.
    Document.objects.filter(pk=newer.pk).update(status=DocumentStatus.DELETED)
    for reader in (patient, author, other):
        assert not allowed(reader, patient, Action.VIEW, document)


def test_the_authors_hiding_hides_from_other_practitioners_but_the_treating_physician(record):
    patient, author, other, document = record
    Document.objects.filter(pk=document.pk).update(hidden_by_author=True)
    document.refresh_from_db()
    assert allowed(author, patient, Action.VIEW, document)
    assert allowed(patient, patient, Action.VIEW, document)
    assert not allowed(other, patient, Action.VIEW, document)
    access = policy.access_to(other, patient)
    assert not Document.objects.filter(access.documents(), pk=document.pk).exists()
    TreatingPhysician.objects.create(patient=patient, physician=other)
    assert allowed(other, patient, Action.VIEW, document)
