"""POST /fhir/Patient/_search (issue 19): the Patient only when the door allows, the same
answer for an unknown NIR and a record without consent, never a NIR in an address."""

from __future__ import annotations

import json
import logging
import re

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome

from audit.models import Action, AuditEvent, Outcome
from tests.enrollment.factories import make_beneficiary
from tests.fhir_api.factories import NIR_SYSTEM, search_patient

UNKNOWN_NIR = "2 84 12 75 108 123 94"


def _without_timestamp(response) -> dict:
    data = response.json()
    data.pop("timestamp")
    return data


def test_the_consented_doctor_finds_the_patient_under_an_opaque_id(world):
    response = search_patient(world.api, world.nir)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    bundle = Bundle.model_validate(response.json())
    assert bundle.type == "searchset" and bundle.total == 1
    patient = response.json()["entry"][0]["resource"]
    assert patient["resourceType"] == "Patient"
    assert patient["id"] == str(world.patient.pk)
    assert world.nir.replace(" ", "") not in patient["id"]
    assert world.nir.replace(" ", "") not in json.dumps(response.json()["link"])
    event = AuditEvent.objects.filter(action=Action.LOOKUP).latest("pk")
    assert event.application == world.app.client_id
    assert event.outcome == Outcome.ALLOWED


def test_unknown_nir_and_no_consent_get_the_same_empty_answer(world):
    not_enrolled = make_beneficiary()
    without_consent = _without_timestamp(search_patient(world.charlie_api, world.nir))
    unknown = _without_timestamp(search_patient(world.charlie_api, UNKNOWN_NIR))
    registry_only = _without_timestamp(search_patient(world.charlie_api, not_enrolled.nir))
    assert without_consent == unknown == registry_only
    assert without_consent["total"] == 0
    # FHIR JSON has no empty array: no match, no ``entry`` (the HL7 validator refuses [])
    assert "entry" not in without_consent
    # Byte for byte the same answer (its timestamp aside) for a refusal and an unknown NIR.
    answers = {
        re.sub(rb'"timestamp":"[^"]*"', b"", search_patient(world.charlie_api, nir).content)
        for nir in (world.nir, UNKNOWN_NIR)
    }
    assert len(answers) == 1
    Bundle.model_validate(search_patient(world.charlie_api, world.nir).json())
    refused = AuditEvent.objects.filter(action=Action.LOOKUP, actor=world.charlie.user)
    assert refused.count() == 6
    assert set(refused.values_list("application", flat=True)) == {world.app.client_id}


def test_a_malformed_identifier_is_refused_with_the_expected_format(world):
    for identifier in ("185057800608491", f"urn:oid:1.2.3|{world.nir}", f"{NIR_SYSTEM}|12345"):
        response = world.api.post("/fhir/Patient/_search", {"identifier": identifier})
        assert response.status_code == 400, identifier
        outcome = OperationOutcome.model_validate(response.json())
        assert outcome.issue[0].code == "invalid"
    assert (
        "urn:oid:1.2.250.1.213.1.4.8|<NIR>"
        in world.api.post("/fhir/Patient/_search", {}).json()["issue"][0]["diagnostics"]
    )
    assert not AuditEvent.objects.filter(action=Action.LOOKUP).exists()


def test_a_nir_in_the_query_string_is_refused_and_never_logged(world, caplog):
    nir = world.nir.replace(" ", "")
    caplog.set_level(logging.DEBUG)
    addresses = [
        f"/fhir/Patient?identifier={NIR_SYSTEM}|{nir}",
        f"/fhir/Patient/_search?identifier={NIR_SYSTEM}%7C{nir}",
        f"/fhir/DocumentReference?patient={nir}",
        f"/fhir/Patient?name=x&nir={nir}",
    ]
    for url in addresses:
        for send in (world.api.get, world.api.post):
            response = send(url)
            assert response.status_code == 400, url
            diagnostics = OperationOutcome.model_validate(response.json()).issue[0].diagnostics
            assert "POST /fhir/Patient/_search" in diagnostics
            assert nir not in response.content.decode()
    assert not AuditEvent.objects.filter(action=Action.LOOKUP).exists()
    for record in caplog.records:
        assert nir not in record.getMessage()
    # The same search in the body goes through, and logs no NIR either.
    assert search_patient(world.api, world.nir).json()["total"] == 1
    assert all(nir not in record.getMessage() for record in caplog.records)


def test_the_look_up_throttle_of_pro_applies(world, settings):
    settings.PRO_LOOKUPS_PER_WINDOW = 2
    for _ in range(2):
        assert search_patient(world.api, world.nir).status_code == 200
    response = search_patient(world.api, world.nir)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    OperationOutcome.model_validate(response.json())
    throttled = AuditEvent.objects.filter(action=Action.LOOKUP, reason="throttled").get()
    assert throttled.application == world.app.client_id
