"""A token reaches exactly what its practitioner reaches on the web pages (issue 19, item 5):
consent, revoked consent, block, emergency, no link, a closed record; each practitioner asks
the same record on the web and through the API, and gets the same answer (200 or 404)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from access_control.models import (
    Block,
    ClosureReason,
    Consent,
    EmergencyAccess,
    RecordClosure,
)
from tests.accounts.factories import PractitionerProfileFactory, logged_in_client
from tests.fhir_api.factories import access_token, api_client, application
from tests.records.factories import add_document, patient_with_login

ROLES = ("consent", "emergency", "none", "revoked", "blocked", "consent_closed")


@pytest.fixture
def parity(db):
    patient, _client = patient_with_login()
    closed, _closed_client = patient_with_login()
    document = add_document(patient, author=None)
    closed_document = add_document(closed)
    pros = {role: PractitionerProfileFactory.create().user for role in ROLES}
    Consent.objects.create(patient=patient, practitioner=pros["consent"])
    Consent.objects.create(
        patient=patient, practitioner=pros["revoked"], revoked_at="2026-01-01T00:00:00Z"
    )
    Consent.objects.create(patient=patient, practitioner=pros["blocked"])
    Block.objects.create(patient=patient, practitioner=pros["blocked"])
    EmergencyAccess.objects.create(
        patient=patient,
        practitioner=pros["emergency"],
        reason="patient inconscient aux urgences",
        ends_at=timezone.now() + timedelta(minutes=30),
    )
    Consent.objects.create(patient=closed, practitioner=pros["consent_closed"])
    RecordClosure.objects.create(
        patient=closed,
        reason=ClosureReason.PATIENT,
        archive_until=timezone.localdate() + timedelta(days=365),
    )
    app = application()
    return patient, document, closed, closed_document, pros, app


@pytest.mark.parametrize("role", ROLES)
def test_the_api_answers_as_the_web_pages(parity, role):
    patient, document, closed, closed_document, pros, app = parity
    if role == "consent_closed":
        patient, document = closed, closed_document
    user = pros[role]
    web = logged_in_client(user)
    api = api_client(access_token(user, app)[0])
    pairs = [
        (
            web.get(f"/pro/patients/{patient.pk}/"),
            api.get("/fhir/DocumentReference", {"patient": str(patient.pk)}),
        ),
        (web.get(f"/records/{document.uid}/"), api.get(f"/fhir/DocumentReference/{document.uid}")),
        (web.get(f"/records/{document.uid}/download/"), api.get(f"/fhir/Binary/{document.uid}")),
    ]
    got = [(page.status_code, call.status_code) for page, call in pairs]
    assert all(page == call for page, call in got), (role, got)
    expected = 200 if role in ("consent", "emergency") else 404
    assert {call for _page, call in got} == {expected}, (role, got)
