"""The API answers FHIR, whatever it is sent (issue 19 review, M2, M3 and later 2, 3, 11): bad
parameters a 400 OperationOutcome giving the expected format, never Django's HTML pages; any
other address under /fhir/ an OperationOutcome; XML asked for, 406; HEAD, 405 (nothing read,
nothing recorded); an unexpected error, a 500 OperationOutcome, logged."""

from __future__ import annotations

import logging

import pytest
from django.test import Client
from fhir.resources.R4B.operationoutcome import OperationOutcome

from audit.models import AuditEvent
from fhir_api import selectors
from tests.fhir_api.factories import access_token, api_client
from tests.records.factories import add_document


def _outcome(response, status: int, code: str) -> str:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/fhir+json")
    assert response["Cache-Control"] == "no-store"
    outcome = OperationOutcome.model_validate(response.json())
    assert outcome.issue[0].code == code
    return outcome.issue[0].diagnostics or ""


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Unicode digits that str.isdigit accepts and int refuses (²), or that are no ASCII.
        ({"_count": "²"}, "_count doit être un nombre entier de 1 à 100."),
        ({"_count": "٣"}, "_count doit être un nombre entier de 1 à 100."),
        # Past int()'s 4 300 digits, and past the database's bigint.
        ({"_count": "9" * 5000}, "_count doit être un nombre entier de 1 à 100."),
        ({"_page": "100000000000000000000"}, "_page doit être un nombre entier de 1 à 10000."),
        ({"_page": "10001"}, "_page doit être un nombre entier de 1 à 10000."),
        ({"_page": "0"}, "_page doit être un nombre entier de 1 à 10000."),
        ({"date": "２０２６-01-01"}, "AAAA-MM-JJ"),
        ({"period": "ge2026-02-30"}, "AAAA-MM-JJ"),
    ],
)
def test_bad_search_parameters_answer_a_400_with_the_expected_format(world, query, expected):
    response = world.api.get("/fhir/DocumentReference", {"patient": str(world.patient.pk), **query})
    assert expected in _outcome(response, 400, "invalid")


def test_too_many_parameters_answer_a_400_not_the_html_page(world):
    query = "&".join(f"p{number}=1" for number in range(1100))
    response = world.api.get(f"/fhir/DocumentReference?patient={world.patient.pk}&{query}")
    assert "trop de paramètres" in _outcome(response, 400, "structure")
    form = {f"p{number}": "1" for number in range(1100)}
    response = world.api.post("/fhir/Patient/_search", form)
    assert "trop de paramètres" in _outcome(response, 400, "structure")


def test_an_unexpected_error_is_a_500_operation_outcome_logged(world, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(selectors, "read_document", broken)
    document = add_document(world.patient)
    with caplog.at_level(logging.ERROR, logger="dmp.operations"):
        response = world.api.get(f"/fhir/DocumentReference/{document.uid}")
    text = _outcome(response, 500, "exception")
    assert text == "Une erreur inattendue s'est produite sur le serveur : réessayez plus tard."
    assert "boom" not in response.content.decode()
    assert any(record.exc_info for record in caplog.records)


@pytest.mark.parametrize(
    "path", ["/fhir/Observation", "/fhir/Patient/{patient}", "/fhir/DocumentReference/x/y"]
)
def test_any_other_address_is_an_operation_outcome(world, path):
    path = path.format(patient=world.patient.pk)
    for send in (Client().get, Client().post, Client().delete, api_client("not-a-token").get):
        response = send(path)
        assert "Authorization: Bearer" in _outcome(response, 401, "login")
        assert response["WWW-Authenticate"] == 'Bearer realm="DMP"'
    # Any valid token, whatever its scopes: the address does not exist.
    raw, _token = access_token(world.doctor.user, world.app, scope="user/Binary.read")
    events = AuditEvent.objects.count()
    for send in (world.api.get, world.api.post, world.api.put, api_client(raw).get):
        text = _outcome(send(path), 404, "not-supported")
        assert "/fhir/metadata" in text and "ne fait pas partie de cette API FHIR" in text
    assert AuditEvent.objects.count() == events


def test_xml_is_refused_with_406_and_json_is_fine(world):
    document = add_document(world.patient)
    read = f"/fhir/DocumentReference/{document.uid}"
    for accept in ("application/fhir+xml", "application/xml+fhir;q=0.9"):
        for path in (read, "/fhir/metadata"):
            response = world.api.get(path, headers={"Accept": accept})
            assert "application/fhir+json" in _outcome(response, 406, "not-supported")
    for path in (f"{read}?_format=xml", "/fhir/metadata?_format=application/fhir%2Bxml"):
        _outcome(world.api.get(path), 406, "not-supported")
    for accept in ("application/fhir+json", "application/json", "*/*", "application/fhir+xml, */*"):
        assert world.api.get(read, headers={"Accept": accept}).status_code == 200, accept
    assert world.api.get(f"{read}?_format=json").status_code == 200
    # The raw file keeps its own type: a Binary asked as application/pdf is no XML.
    response = world.api.get(f"/fhir/Binary/{document.uid}", headers={"Accept": "application/pdf"})
    assert response.status_code == 200


def test_head_is_refused_and_records_nothing(world):
    document = add_document(world.patient)
    events = AuditEvent.objects.count()
    for path, allowed in (
        (f"/fhir/Binary/{document.uid}", "GET"),
        (f"/fhir/DocumentReference/{document.uid}", "GET"),
        (f"/fhir/DocumentReference?patient={world.patient.pk}", "GET, POST"),
        ("/fhir/metadata", "GET"),
    ):
        response = world.api.head(path)
        assert response.status_code == 405, path
        assert response["Allow"] == allowed
    assert AuditEvent.objects.count() == events


def test_a_bare_get_of_patient_is_405_with_the_way_to_search(world):
    for send in (world.api.get, Client().get, world.api.post):
        response = send("/fhir/Patient", {"name": "Dupont"})
        text = _outcome(response, 405, "not-supported")
        assert text == (
            "Recherchez un patient avec POST /fhir/Patient/_search et le champ de formulaire "
            "identifier=urn:oid:1.2.250.1.213.1.4.8|<NIR>."
        )
        assert "NIR) dans une adresse" not in text
