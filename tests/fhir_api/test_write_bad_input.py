"""Bad input to the FHIR API's writes (issue 19, « Bad input »): each mistake answered with an
OperationOutcome whose French diagnostic gives the expected format, with the status that names
it, and nothing stored: not a row (the whole database re-read), not a byte of a file."""

from __future__ import annotations

import json

import pytest
from django.test import Client, override_settings

from tests.fhir_api.factories_write import (
    category,
    consented_patient_and_token,
    document_reference,
    refused_post,
    transaction,
)
from tests.records.factories import PDF

pytestmark = [pytest.mark.django_db, pytest.mark.csrf_raw]

TEXT = b"Compte rendu : examen normal.\n"


@pytest.fixture
def world():
    return consented_patient_and_token()


def refused(path: str, body, token: str | None, **extra) -> tuple[int, str]:
    """POST, then check that nothing was stored; the status and the French diagnostic."""
    status, issue = refused_post(path, body, token, **extra)
    assert issue["severity"] == "error"
    return status, issue["diagnostics"]


def test_malformed_json(world):
    _patient, token = world
    status, text = refused("/fhir/DocumentReference", b'{"resourceType": "Docu', token)
    assert status == 400
    assert "n'est pas du JSON valide" in text and "application/fhir+json" in text


def test_json_that_is_no_resource(world):
    _patient, token = world
    status, text = refused("/fhir/DocumentReference", b"[1, 2]", token)
    assert (status, text) == (
        400,
        "Le corps de la requête doit être une ressource FHIR : un objet JSON.",
    )


def test_wrong_resource_type(world):
    patient, token = world
    resource = {**document_reference(patient.pk), "resourceType": "Observation"}
    status, text = refused("/fhir/DocumentReference", resource, token)
    assert (status, text) == (
        400,
        'Format attendu : une ressource avec "resourceType": "DocumentReference".',
    )


def test_a_bundle_posted_to_document_reference_is_sent_to_the_base(world):
    patient, token = world
    status, text = refused("/fhir/DocumentReference", transaction(patient.pk), token)
    assert status == 400 and "Un Bundle s'envoie à /fhir/" in text


def test_a_document_reference_posted_to_the_base_is_sent_to_its_address(world):
    patient, token = world
    status, text = refused("/fhir/", document_reference(patient.pk), token)
    assert status == 400
    assert text.startswith("Une DocumentReference seule s'envoie à /fhir/DocumentReference.")


def test_a_bundle_that_is_not_one_binary_and_its_document_reference(world):
    patient, token = world
    batch = {**transaction(patient.pk), "type": "batch"}
    assert refused("/fhir/", batch, token)[0] == 400
    pointing_elsewhere = transaction(patient.pk)
    pointing_elsewhere["entry"][1]["resource"]["content"][0]["attachment"]["url"] = "urn:uuid:x"
    status, text = refused("/fhir/", pointing_elsewhere, token)
    assert status == 400 and "le fullUrl du Binary" in text
    one_entry = transaction(patient.pk)
    del one_entry["entry"][0]
    assert refused("/fhir/", one_entry, token)[0] == 400


def test_a_transaction_with_a_bad_binary_stores_neither(world):
    """All or nothing: the Binary's data is refused, so no DocumentReference either."""
    patient, token = world
    status, text = refused("/fhir/", transaction(patient.pk, data=TEXT), token)
    assert status == 415 and "type déclaré" in text


def test_data_that_is_not_base64(world):
    patient, token = world
    resource = document_reference(patient.pk, data="JVBERi0xLjQK$$$pas du base64")
    status, text = refused("/fhir/DocumentReference", resource, token)
    assert status == 400
    assert "ne sont pas du base64 valide" in text and "RFC 4648" in text


def test_data_that_is_not_the_declared_type(world):
    patient, token = world
    resource = document_reference(patient.pk, data=TEXT, content_type="application/pdf")
    status, text = refused("/fhir/DocumentReference", resource, token)
    assert status == 415
    assert text == (
        "Les données de la pièce jointe ne sont pas du type déclaré par contentType (document "
        "PDF) : ce sont des données de type texte brut. Déclarez le type du fichier envoyé."
    )


def test_a_declared_type_the_portal_does_not_accept(world):
    patient, token = world
    resource = document_reference(patient.pk, data=PDF, content_type="application/msword")
    status, text = refused("/fhir/DocumentReference", resource, token)
    assert status == 415
    assert text.startswith("Ce type de fichier n'est pas accepté (application/msword).")
    assert "application/pdf" in text


def test_a_damaged_file_of_the_declared_type(world):
    patient, token = world
    resource = document_reference(patient.pk, data=PDF[: len(PDF) // 2])
    status, text = refused("/fhir/DocumentReference", resource, token)
    assert (status, text) == (422, "Ce fichier PDF est endommagé ou incomplet.")


def test_a_body_announced_over_the_limit_is_refused_before_it_is_read(world):
    """413 from Content-Length alone: the test client's payload would fail a read past its
    few bytes, so nothing of it was read."""
    _patient, token = world
    status, text = refused("/fhir/DocumentReference", b"{}", token, CONTENT_LENGTH="999999999")
    assert (status, text) == (
        413,
        "Le document dépasse la taille maximale de 5 Mo (une fois décodé).",
    )


@override_settings(RECORDS_MAX_UPLOAD_BYTES=1024 * 1024)
def test_an_attachment_over_the_limit(world):
    patient, token = world
    over = b"%PDF-1.4\n" + b"0" * (1024 * 1024)
    # The body itself is within its limit (the decoded size is what is over).
    status, text = refused(
        "/fhir/DocumentReference", document_reference(patient.pk, data=over), token
    )
    assert (status, text) == (
        413,
        "Le document dépasse la taille maximale de 1 Mo (une fois décodé).",
    )
    # Over the body's limit too: refused before reading.
    much_more = document_reference(patient.pk, data=over * 2)
    assert refused("/fhir/DocumentReference", much_more, token)[0] == 413


@pytest.mark.parametrize("subject", [None, {}, {"reference": "Practitioner/12"}, "Patient/x"])
def test_missing_subject(world, subject):
    """No patient named: the answer of an unknown patient (404), which gives the format."""
    patient, token = world
    resource = document_reference(patient.pk)
    if subject is None:
        del resource["subject"]
    else:
        resource["subject"] = subject
    status, text = refused("/fhir/DocumentReference", resource, token)
    assert status == 404 and '(subject : {"reference": "Patient/<id>"}' in text


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        ({}, "Indiquez la catégorie"),
        ({"category": category("radiologie")}, "Ces codes ne désignent aucune catégorie"),
        (
            {"category": [{"coding": [{"system": "urn:oid:1.2.250.1.213.1.1.4.1", "code": "10"}]}]},
            "Ces codes désignent plusieurs catégories du portail (biologie, comptes-rendus, "
            "psychiatrie).",
        ),
    ],
)
def test_a_category_missing_unknown_or_ambiguous(world, codes, expected):
    patient, token = world
    resource = document_reference(patient.pk, codes=codes)
    status, text = refused("/fhir/DocumentReference", resource, token)
    assert status == 400 and expected in text and "urn:dmp-portal:document-category" in text


@pytest.mark.parametrize(
    ("act_date", "expected"),
    [
        ("12/03/2026", "au format AAAA-MM-JJ, par exemple 2026-03-12"),
        ("2026-02-30", "au format AAAA-MM-JJ"),
        ("2999-01-01", "La date de l'acte ne peut pas être dans le futur."),
    ],
)
def test_a_bad_date(world, act_date, expected):
    patient, token = world
    resource = document_reference(patient.pk, act_date=act_date)
    status, text = refused("/fhir/DocumentReference", resource, token)
    assert status == 400 and expected in text


def test_missing_or_too_long_title(world):
    patient, token = world
    resource = document_reference(patient.pk)
    del resource["description"]
    assert refused("/fhir/DocumentReference", resource, token) == (
        400,
        "description est obligatoire : le titre du document, en texte.",
    )
    resource = document_reference(patient.pk, title="x" * 201)
    assert refused("/fhir/DocumentReference", resource, token) == (
        400,
        "description est trop longue : 200 caractères au plus.",
    )


def test_another_format_than_json(world):
    patient, token = world
    status, text = refused(
        "/fhir/DocumentReference",
        b"<DocumentReference/>",
        token,
        content_type="application/fhir+xml",
    )
    assert (status, text) == (
        415,
        "Envoyez la ressource en JSON, avec Content-Type: application/fhir+json.",
    )


def test_only_post(world):
    _patient, token = world
    response = Client().get("/fhir/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert json.loads(response.content)["resourceType"] == "OperationOutcome"


def test_a_large_form_body_is_answered_as_not_json(world):
    """Past Django's limit for form fields, still an OperationOutcome (not the HTML 400 page)."""
    _patient, token = world
    body = b"resource=" + b"x" * 300_000
    status, text = refused(
        "/fhir/DocumentReference", body, token, content_type="application/x-www-form-urlencoded"
    )
    assert (status, text) == (
        415,
        "Envoyez la ressource en JSON, avec Content-Type: application/fhir+json.",
    )
