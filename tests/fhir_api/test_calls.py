"""Who may call the FHIR API and how often (issue 19, items 2 and 5): the token (missing,
expired, revoked, wrong scope), the practitioner's own reach, consent revoked between two
calls, rate limits, no cookie and no session; the Binary; the history's « via »."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from fhir.resources.R4B.binary import Binary
from fhir.resources.R4B.operationoutcome import OperationOutcome

from access_control.models import Consent
from access_control.services import revoke_consent
from audit.models import Action, AuditEvent, Outcome
from records.models import Document
from tests.accounts.factories import logged_in_client
from tests.fhir_api.factories import access_token, api_client, application, search_patient
from tests.metrics_reading import TOKEN, scrape, value
from tests.records.factories import PDF, add_document


def _documents(client, world):
    return client.get("/fhir/DocumentReference", {"patient": str(world.patient.pk)})


def _outcome(response, status: int, code: str) -> str:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/fhir+json")
    outcome = OperationOutcome.model_validate(response.json())
    assert outcome.issue[0].code == code
    return outcome.issue[0].diagnostics or ""


def test_without_a_valid_token_401_with_www_authenticate(world):
    add_document(world.patient)
    _raw, expired = access_token(world.doctor.user, world.app, expires_in=timedelta(seconds=-1))
    revoked_raw, revoked = access_token(world.doctor.user, world.app)
    revoked.revoke()
    events = AuditEvent.objects.count()
    for client in (
        api_client(""),
        api_client("not-a-token"),
        api_client(_raw),
        api_client(revoked_raw),
        logged_in_client(world.doctor.user),  # a web session is no token
    ):
        response = _documents(client, world)
        diagnostics = _outcome(response, 401, "login")
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert "Authorization: Bearer" in diagnostics
    assert AuditEvent.objects.count() == events  # nothing was asked of the door


def test_a_token_without_the_scope_is_403(world):
    document = add_document(world.patient)
    raw, _token = access_token(world.doctor.user, world.app, scope="user/Patient.read")
    client = api_client(raw)
    for response in (
        _documents(client, world),
        client.get(f"/fhir/DocumentReference/{document.uid}"),
        client.get(f"/fhir/Binary/{document.uid}"),
    ):
        assert "user/" in _outcome(response, 403, "forbidden")
        assert 'error="insufficient_scope"' in response["WWW-Authenticate"]
    assert search_patient(client, world.nir).status_code == 200


def test_a_patient_or_staff_token_is_no_practitioner_token(world):
    raw, _token = access_token(world.patient, world.app)
    _outcome(_documents(api_client(raw), world), 401, "login")


def test_the_binary_is_the_original_file_and_a_download(world):
    document = add_document(world.patient, content=PDF)
    response = world.api.get(f"/fhir/Binary/{document.uid}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == "attachment"
    assert b"".join(response.streaming_content) == PDF
    as_fhir = world.api.get(f"/fhir/Binary/{document.uid}", HTTP_ACCEPT="application/fhir+json")
    binary = Binary.model_validate(as_fhir.json())
    assert base64.b64decode(as_fhir.json()["data"]) == PDF
    assert binary.contentType == "application/pdf"
    downloads = AuditEvent.objects.filter(action=Action.DOWNLOAD, document_uid=document.uid)
    assert downloads.count() == 2
    assert set(downloads.values_list("application", flat=True)) == {world.app.client_id}
    _outcome(world.charlie_api.get(f"/fhir/Binary/{document.uid}"), 404, "not-found")


def test_a_third_practitioner_is_refused_and_changes_nothing(world):
    document = add_document(world.patient)
    before = (Document.objects.count(), Consent.objects.count())
    for response in (
        _documents(world.charlie_api, world),
        world.charlie_api.get(f"/fhir/DocumentReference/{document.uid}"),
        world.charlie_api.get(f"/fhir/Binary/{document.uid}"),
    ):
        _outcome(response, 404, "not-found")
    assert search_patient(world.charlie_api, world.nir).json()["total"] == 0
    assert (Document.objects.count(), Consent.objects.count()) == before
    # The look-up itself is allowed (as on /pro/), the record is not opened.
    reads = AuditEvent.objects.filter(actor=world.charlie.user).exclude(action=Action.LOOKUP)
    assert set(reads.values_list("outcome", flat=True)) == {Outcome.REFUSED}
    assert reads.count() == 3


def test_revoking_consent_refuses_the_very_next_call(world):
    document = add_document(world.patient)
    assert _documents(world.api, world).status_code == 200
    consent = Consent.objects.get(patient=world.patient, practitioner=world.doctor.user)
    revoke_consent(world.patient, consent.pk)
    _outcome(_documents(world.api, world), 404, "not-found")
    _outcome(world.api.get(f"/fhir/Binary/{document.uid}"), 404, "not-found")
    assert search_patient(world.api, world.nir).json()["total"] == 0


def test_calls_are_limited_per_practitioner(world, settings):
    settings.FHIR_CALLS_PER_PRACTITIONER = 2
    settings.METRICS_TOKEN = TOKEN
    before = value(scrape(), "dmp_throttled_total", throttle="fhir-practitioner")
    assert _documents(world.api, world).status_code == 200
    assert _documents(world.api, world).status_code == 200
    response = _documents(world.api, world)
    _outcome(response, 429, "throttled")
    assert 0 < int(response["Retry-After"]) <= settings.FHIR_CALL_WINDOW_SECONDS
    assert value(scrape(), "dmp_throttled_total", throttle="fhir-practitioner") == before + 1
    # Another practitioner of the same application is not held back by the first one.
    assert _documents(world.charlie_api, world).status_code == 404


def test_calls_are_limited_per_application(world, settings):
    settings.FHIR_CALLS_PER_APPLICATION = 2
    assert _documents(world.api, world).status_code == 200
    assert _documents(world.charlie_api, world).status_code == 404
    _outcome(_documents(world.charlie_api, world), 429, "throttled")
    _outcome(_documents(world.api, world), 429, "throttled")
    other_raw, _token = access_token(world.doctor.user, application("Autre logiciel"))
    assert _documents(api_client(other_raw), world).status_code == 200


def test_no_cookie_no_session_and_no_csrf_token_needed(world):
    add_document(world.patient)
    responses = [
        _documents(world.api, world),
        search_patient(world.api, world.nir),  # a POST without any CSRF token
        world.api.get("/fhir/metadata"),
        world.api.get("/fhir/DocumentReference"),
    ]
    for response in responses:
        assert not response.cookies, response.cookies
    # Health data and refusals are kept by no cache; the CapabilityStatement may be.
    for response in (responses[0], responses[1], responses[3]):
        assert response["Cache-Control"] == "no-store"
    assert responses[1].status_code == 200


def test_the_patients_history_names_the_application(world):
    add_document(world.patient)
    _documents(world.api, world)
    page = world.patient_client.get("/access/history/").content.decode()
    assert "via Logiciel du cabinet" in page
    world.app.delete()  # the name is gone: the client id is still shown
    page = world.patient_client.get("/access/history/").content.decode()
    assert f"via {AuditEvent.objects.filter(action=Action.LIST).latest('pk').application}" in page


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_other_methods_are_405_outcomes(world, method):
    response = getattr(world.api, method)("/fhir/DocumentReference")
    _outcome(response, 405, "not-supported")
