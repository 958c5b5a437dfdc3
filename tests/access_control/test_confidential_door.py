"""The door and a minor's confidential care (issue 17, item 4; public health code art.
L1111-5): a document its practitioner author keeps from the legal representatives is refused
to a representative for every action (recorded) and left out of their lists; the owner (the
minor) and the practitioners the usual rules let read it still see it. Asked of
``policy.decide`` and ``RecordAccess.documents()`` directly; the trail through ``authorize``."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from access_control import policy
from access_control.confidential import is_minor
from access_control.decisions import AUTHOR_ACTIONS, OWNER_ACTIONS
from access_control.models import CaregiverGrant, Consent, LegalRepresentation
from audit.models import Action, AuditEvent, Mode, Outcome
from enrollment.models import Beneficiary
from records.models import Category, Document, DocumentStatus
from records.selectors import listed_categories
from tests.access_control.factories import practitioner_with_login
from tests.accounts.factories import UserFactory
from tests.enrollment.factories import make_beneficiary
from tests.records.factories import add_document, patient_with_login

pytestmark = pytest.mark.django_db

# Every action a representative may take on a document of the record (``OWNER_ACTIONS``).
DOCUMENT_ACTIONS = sorted(OWNER_ACTIONS)


def a_year_on():
    """A representation's last day within the test's minority (the child is far from 18)."""
    return timezone.localdate() + timedelta(days=365)


@pytest.fixture
def world():
    """A minor's record (the registry says 11 years old), one of their legal representatives,
    the practitioner author of a confidential document and of an ordinary one (both within
    consent), another practitioner within consent, and a caregiver (read)."""
    minor = patient_with_login()[0]
    person = make_beneficiary(born=date(2015, 1, 2))
    type(person).objects.filter(pk=person.pk).update(patient=minor)
    representative = UserFactory(kind="patient")
    LegalRepresentation.objects.create(
        minor=minor, representative=representative, until=a_year_on()
    )
    author = practitioner_with_login()[0].user
    other = practitioner_with_login()[0].user
    for practitioner in (author, other):
        Consent.objects.create(patient=minor, practitioner=practitioner)
    secret = add_document(minor, title="Contraception", category="biologie", author=author)
    Document.objects.filter(pk=secret.pk).update(confidential_from_representatives=True)
    secret.refresh_from_db()
    ordinary = add_document(minor, title="Vaccins", category="biologie", author=author)
    caregiver = UserFactory(kind="patient")
    CaregiverGrant.objects.create(
        patient=minor,
        caregiver=caregiver,
        scope="read",
        accepted_at=timezone.now(),
        until=timezone.localdate() + timedelta(days=30),
    )
    return {
        "minor": minor,
        "representative": representative,
        "author": author,
        "other": other,
        "caregiver": caregiver,
        "secret": secret,
        "ordinary": ordinary,
    }


def acting(actor, world, action, document):
    return policy.decide(actor, world["minor"], action, document, acting_for=True)


@pytest.mark.parametrize("action", DOCUMENT_ACTIONS)
def test_a_representative_is_refused_every_action_on_a_confidential_document(world, action):
    decision = acting(world["representative"], world, action, world["secret"])
    assert not decision.allowed
    assert decision.reason == "hidden-from-representatives"
    assert decision.mode == Mode.REPRESENTATIVE


def test_a_representative_still_reads_the_other_documents(world):
    for action in (Action.VIEW, Action.DOWNLOAD):
        assert acting(world["representative"], world, action, world["ordinary"]).allowed


@pytest.mark.parametrize("action", [Action.VIEW, Action.DOWNLOAD, Action.HIDE, Action.DELETE])
def test_each_refusal_is_recorded_with_the_representative_as_actor(world, action):
    secret = world["secret"]
    with transaction.atomic():
        decision = policy.authorize(
            world["representative"], world["minor"], action, document=secret, acting_for=True
        )
    assert not decision.allowed
    event = AuditEvent.objects.get(pk=decision.event_id)
    assert event.actor_id == world["representative"].pk
    assert event.patient_id == world["minor"].pk
    assert event.document_uid == secret.uid
    assert (event.outcome, event.mode, event.reason) == (
        Outcome.REFUSED,
        Mode.REPRESENTATIVE,
        "hidden-from-representatives",
    )


def test_an_earlier_version_is_refused_with_its_current_one(world):
    secret = world["secret"]
    newer = add_document(world["minor"], title="Contraception (2)", author=world["author"])
    Document.objects.filter(pk=newer.pk).update(
        replaces=secret, confidential_from_representatives=True
    )
    # The earlier version's own flag cleared: the door reads it through the current one.
    Document.objects.filter(pk=secret.pk).update(
        status=DocumentStatus.REPLACED, confidential_from_representatives=False
    )
    secret.refresh_from_db()
    decision = acting(world["representative"], world, Action.VIEW, secret)
    assert not decision.allowed and decision.reason == "hidden-from-representatives"
    assert policy.decide(world["minor"], world["minor"], Action.VIEW, secret).allowed


def test_a_caregiver_is_refused_it_too(world):
    decision = acting(world["caregiver"], world, Action.VIEW, world["secret"])
    assert not decision.allowed and decision.reason == "hidden-from-caregiver"
    assert acting(world["caregiver"], world, Action.VIEW, world["ordinary"]).allowed


def test_the_owner_and_the_practitioners_within_consent_still_read_it(world):
    minor, secret = world["minor"], world["secret"]
    assert policy.decide(minor, minor, Action.VIEW, secret).allowed
    assert policy.decide(world["author"], minor, Action.VIEW, secret).allowed
    assert policy.decide(world["other"], minor, Action.VIEW, secret).allowed


def listed(actor, minor, *, acting_for=False) -> set:
    access = policy.access_to(actor, minor, acting_for=acting_for)
    return set(Document.objects.filter(access.documents()).values_list("uid", flat=True))


def test_the_lists_leave_it_out_for_a_representative_and_a_caregiver_only(world):
    minor, secret, ordinary = world["minor"], world["secret"].uid, world["ordinary"].uid
    for helper in (world["representative"], world["caregiver"]):
        assert listed(helper, minor, acting_for=True) == {ordinary}
    for reader in (minor, world["author"], world["other"]):
        assert listed(reader, minor) == {secret, ordinary}
    # And the filter itself, asked of ``visible_documents``.
    shown = Document.objects.filter(policy.visible_documents(world["representative"], minor))
    assert list(shown.values_list("uid", flat=True)) == [ordinary]


def test_the_minor_come_of_age_sees_it_and_the_former_representative_nothing(world):
    minor = world["minor"]
    LegalRepresentation.objects.update(ended_at=timezone.now(), ended_reason="majority")
    assert listed(world["representative"], minor, acting_for=True) == set()
    assert world["secret"].uid in listed(minor, minor)


@pytest.mark.parametrize(
    "action", [Action.HIDE_FROM_REPRESENTATIVES, Action.SHOW_TO_REPRESENTATIVES]
)
def test_only_its_practitioner_author_within_consent_may_set_or_lift_it(world, action):
    minor, secret = world["minor"], world["secret"]
    assert action in AUTHOR_ACTIONS
    decision = policy.decide(world["author"], minor, action, secret)
    assert decision.allowed and decision.reason == "author"
    decision = policy.decide(world["other"], minor, action, secret)
    assert not decision.allowed and decision.reason == "not-author"
    assert not policy.decide(minor, minor, action, secret).allowed
    assert not acting(world["representative"], world, action, secret).allowed
    Consent.objects.filter(practitioner=world["author"]).update(revoked_at=timezone.now())
    assert not policy.decide(world["author"], minor, action, secret).allowed


def test_the_birth_date_says_who_is_a_minor(world):
    minor = world["minor"]
    assert is_minor(minor)
    person = Beneficiary.objects.get(patient=minor)
    person.birth_date = date(2008, 6, 15).isoformat()
    person.save()
    assert is_minor(minor, date(2026, 6, 14))
    assert not is_minor(minor, date(2026, 6, 15))  # the 18th birthday
    assert not is_minor(UserFactory(kind="patient"))  # no registry row


def test_the_category_filter_offers_no_category_only_it_fills(world):
    """A representative's category filter (the door's list filter) offers no category that only
    a confidential document fills: no hint of it there either."""
    minor = world["minor"]
    Document.objects.filter(pk=world["secret"].pk).update(
        category=Category.objects.get(code="imagerie")
    )

    def codes(actor, **kwargs) -> set[str]:
        access = policy.access_to(actor, minor, **kwargs)
        return {category.code for category in listed_categories(access)}

    assert codes(world["representative"], acting_for=True) == {"biologie"}
    assert codes(minor) == {"biologie", "imagerie"}
