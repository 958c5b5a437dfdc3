"""The pages addressed by a document's uid are made for its owner (their controls, « mon
dossier »): until item 3's switch builds pages for acting on someone else's record, a live
caregiver or legal representative is refused there as anybody else is (404, recorded as
``not-own-record``), and changes nothing (review of issue 17, finding 2)."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from access_control import policy
from access_control.models import CaregiverGrant, LegalRepresentation
from audit.models import Action, AuditEvent, Mode, Outcome
from records.models import Document
from tests.records.factories import add_document, patient_with_login, pdf_upload

pytestmark = pytest.mark.django_db

READ_ROUTES = ["", "content/", "download/"]
WRITE_ROUTES = ["hide/", "show/", "delete/", "replace/", "hold/", "reveal/", "withdraw/"]


@pytest.fixture(params=["caregiver", "representative"])
def helper(request):
    """The owner, their document, and a helper signed in with a live tie of each kind."""
    owner, owner_client = patient_with_login()
    helper, client = patient_with_login()
    if request.param == "caregiver":
        CaregiverGrant.objects.create(
            patient=owner,
            caregiver=helper,
            scope="manage",
            accepted_at=timezone.now(),
            until=timezone.localdate(),
        )
    else:
        LegalRepresentation.objects.create(
            minor=owner, representative=helper, until=date(2100, 1, 1)
        )
    document = add_document(owner)
    return owner, owner_client, helper, client, document


def test_the_tie_itself_is_live(helper):
    owner, _, person, _, document = helper
    decision = policy.decide(person, owner, Action.VIEW, document, acting_for=True)
    assert decision.allowed and decision.mode in (Mode.CAREGIVER, Mode.REPRESENTATIVE)


@pytest.mark.parametrize("route", READ_ROUTES)
def test_a_helper_is_refused_the_owner_s_document_pages(helper, route):
    owner, owner_client, person, client, document = helper
    assert owner_client.get(f"/records/{document.uid}/{route}").status_code == 200
    assert client.get(f"/records/{document.uid}/{route}").status_code == 404
    event = AuditEvent.objects.filter(actor=person).latest("pk")
    assert (event.patient_id, event.outcome, event.reason, event.mode) == (
        owner.pk,
        Outcome.REFUSED,
        "not-own-record",
        Mode.NORMAL,
    )


def state() -> list[tuple[object, ...]]:
    return list(
        Document.objects.order_by("pk").values_list(
            "pk",
            "status",
            "hidden_from_practitioners",
            "hidden_by_author",
            "hidden_from_patient_until",
            "replaces_id",
        )
    )


@pytest.mark.parametrize("route", WRITE_ROUTES)
def test_a_helper_changes_nothing_through_the_owner_s_document_pages(helper, route):
    _, _, person, client, document = helper
    before = state()
    data = {"file": pdf_upload(), "title": "Autre", "category": "imagerie"}
    response = client.post(f"/records/{document.uid}/{route}", data)
    assert response.status_code == 404
    assert state() == before
    assert not AuditEvent.objects.filter(actor=person, outcome=Outcome.ALLOWED).exists()


def test_a_helper_s_refusal_loads_no_tie(helper, django_assert_num_queries):
    # Refused before the tie is read: the uid pages cost the same with or without one.
    owner, _, person, _, document = helper
    with django_assert_num_queries(0):
        decision = policy.decide(person, owner, Action.VIEW, document)
    assert not decision.allowed and decision.reason == "not-own-record"
