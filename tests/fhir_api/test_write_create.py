"""POST /fhir/DocumentReference and POST /fhir/ (a transaction Bundle): a practitioner's
software adds a document through the upload's own code (issue 19, item 2).

Every resource answered validates against FHIR R4 (``fhir.resources``' R4B models). The
clients send no CSRF token (``csrf_raw``), as software does: the writes take the bearer token
only.
"""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from django.core import mail
from django.test import Client
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.documentreference import DocumentReference

from access_control.models import Consent, RecordSettings
from audit.models import AuditEvent, Outcome
from records.models import Document
from records.selectors import document_content
from tests.accounts.factories import PractitionerProfileFactory, give_verified_email
from tests.fhir_api.factories import application
from tests.fhir_api.factories_write import (
    access_token,
    document_reference,
    lab_report_codes,
    post_json,
    transaction,
)
from tests.records.factories import PDF, patient_with_login

pytestmark = [pytest.mark.django_db, pytest.mark.csrf_raw]


@pytest.fixture
def world():
    patient, _client = patient_with_login()
    profile = PractitionerProfileFactory()
    Consent.objects.create(patient=patient, practitioner=profile.user)
    app = application("Logiciel du cabinet")
    return patient, profile, app, access_token(profile.user, app)


def test_a_document_reference_with_its_file_inline_is_added(
    world, django_capture_on_commit_callbacks
):
    patient, profile, app, token = world
    give_verified_email(patient, "patiente@example.fr")
    RecordSettings.objects.create(patient=patient, notify_first_access=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_json(
            Client(), "/fhir/DocumentReference", document_reference(patient.pk), token
        )

    assert response.status_code == 201, response.content
    assert response["Content-Type"].startswith("application/fhir+json")
    document = Document.objects.get(patient=patient)
    assert response["Location"] == f"http://testserver/fhir/DocumentReference/{document.uid}"
    resource = json.loads(response.content)
    DocumentReference.model_validate(resource)  # valid FHIR R4
    assert resource["id"] == str(document.uid)
    assert resource["subject"]["reference"].endswith(f"/fhir/Patient/{patient.pk}")
    assert resource["content"][0]["attachment"]["url"].endswith(f"/fhir/Binary/{document.uid}")
    assert resource["author"][0]["identifier"]["value"] == profile.rpps
    # Stored as the upload page stores it: its author, encrypted, the bytes as sent.
    assert (document.author, document.category.code, document.title) == (
        profile.user,
        "biologie",
        "Bilan sanguin de mars",
    )
    assert str(document.act_date) == "2026-03-12"
    assert (document.media_type, document.size) == ("application/pdf", len(PDF))
    assert b"".join(document_content(document)) == PDF
    assert document.sha256 == hashlib.sha256(PDF).hexdigest()
    # The door's decision, recorded on the patient's chain, names the application.
    event = AuditEvent.objects.get(patient=patient, action="upload")
    assert (event.actor, event.outcome, event.application) == (
        profile.user,
        Outcome.ALLOWED,
        app.client_id,
    )
    # The patient is told, as after the upload page.
    assert [message.to for message in mail.outbox] == [["patiente@example.fr"]]


def test_the_cisis_class_and_loinc_type_name_the_category(world):
    patient, _profile, _app, token = world
    resource = document_reference(patient.pk, codes=lab_report_codes())
    response = post_json(Client(), "/fhir/DocumentReference", resource, token)
    assert response.status_code == 201, response.content
    assert Document.objects.get(patient=patient).category.code == "biologie"


def test_a_transaction_of_a_binary_and_its_document_reference(world):
    patient, profile, app, token = world
    response = post_json(Client(), "/fhir/", transaction(patient.pk), token)

    assert response.status_code == 200, response.content
    bundle = json.loads(response.content)
    Bundle.model_validate(bundle)
    document = Document.objects.get(patient=patient)
    assert bundle["type"] == "transaction-response"
    assert [entry["response"]["status"] for entry in bundle["entry"]] == ["201 Created"] * 2
    assert bundle["entry"][0]["response"]["location"].endswith(f"/fhir/Binary/{document.uid}")
    assert bundle["entry"][1]["response"]["location"].endswith(
        f"/fhir/DocumentReference/{document.uid}"
    )
    assert bundle["entry"][1]["resource"]["id"] == str(document.uid)
    assert b"".join(document_content(document)) == PDF
    assert document.title == "Compte rendu de consultation"
    assert AuditEvent.objects.get(patient=patient, action="upload").application == app.client_id


def test_the_answer_follows_the_order_of_the_entries(world):
    patient, _profile, _app, token = world
    bundle = transaction(patient.pk)
    bundle["entry"].reverse()
    response = post_json(Client(), "/fhir/", bundle, token)
    assert response.status_code == 200, response.content
    entries = json.loads(response.content)["entry"]
    assert "/fhir/DocumentReference/" in entries[0]["response"]["location"]
    assert "/fhir/Binary/" in entries[1]["response"]["location"]


def test_other_accepted_types_when_the_data_is_of_the_declared_type(world):
    patient, _profile, _app, token = world
    text = "Traitement : paracétamol 1 g, trois fois par jour.\n".encode()
    resource = document_reference(patient.pk, data=text, content_type="text/plain; charset=utf-8")
    response = post_json(Client(), "/fhir/DocumentReference", resource, token)
    assert response.status_code == 201, response.content
    assert Document.objects.get(patient=patient).media_type == "text/plain; charset=utf-8"
    assert base64.b64encode(text)  # sent encoded, stored decoded
    assert b"".join(document_content(Document.objects.get(patient=patient))) == text


def test_the_subject_as_the_read_api_writes_it(world):
    """An absolute reference, as in the DocumentReferences the API answers, names the patient
    too."""
    patient, _profile, _app, token = world
    resource = document_reference(patient.pk)
    resource["subject"]["reference"] = f"http://testserver/fhir/Patient/{patient.pk}"
    response = post_json(Client(), "/fhir/DocumentReference", resource, token)
    assert response.status_code == 201, response.content
    assert Document.objects.get().patient == patient
