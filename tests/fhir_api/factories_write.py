"""Builders for the FHIR API's writes (issue 19, item 2): write tokens and the resources a
practitioner's software posts. The application and the token rows are the read API's
builders (tests/fhir_api/factories.py), so both sides store them the same way."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

from django.test import Client
from fhir.resources.R4B.operationoutcome import OperationOutcome
from oauth2_provider.models import Application

from access_control.fhir_bundle import CATEGORY_SYSTEM, CISIS_CLASS_SYSTEM, LOINC_SYSTEM
from access_control.models import Consent
from accounts.models import User
from tests.accounts.factories import PractitionerProfileFactory
from tests.database_state import changed_tables, database_snapshot
from tests.fhir_api import factories
from tests.records.factories import PDF, patient_with_login
from tests.storage_backends import stored_files

WRITE = "user/DocumentReference.write"
ALL_SCOPES = "user/Patient.read user/DocumentReference.read user/DocumentReference.write"
ALL_SCOPES += " user/Binary.read"
FHIR_JSON = "application/fhir+json"


def access_token(
    practitioner: User,
    app: Application | None = None,
    *,
    scope: str = WRITE,
    expires_in: timedelta = timedelta(minutes=5),
) -> str:
    """A write token of ``practitioner`` through ``app`` (a new one when None): the raw
    token only, made by the read API's builder."""
    raw, _ = factories.access_token(practitioner, app, scope=scope, expires_in=expires_in)
    return raw


def consented_patient_and_token() -> tuple[User, str]:
    """A patient (with a login) who gave their consent to a practitioner, and a write token of
    that practitioner."""
    patient, _client = patient_with_login()
    profile = PractitionerProfileFactory.create()
    Consent.objects.create(patient=patient, practitioner=profile.user)
    return patient, access_token(profile.user)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def post_json(client: Client, path: str, body: Any, token: str | None = None, **extra):
    """POST ``body`` (a resource, or bytes as they are) with the bearer token, as a
    practitioner's software does: no cookie, no CSRF token."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {**extra.pop("headers", {}), **(bearer(token) if token is not None else {})}
    return client.post(
        path, data, content_type=extra.pop("content_type", FHIR_JSON), headers=headers, **extra
    )


def refused_post(path: str, body: Any, token: str | None, **extra) -> tuple[int, dict[str, Any]]:
    """POST, then check that nothing was stored (not a row, the whole database re-read; not a
    byte of a file) and that the answer is a valid FHIR R4 OperationOutcome: the status and
    the outcome's first issue."""
    before, files = database_snapshot(), stored_files()
    response = post_json(Client(), path, body, token, **extra)
    assert changed_tables(before, database_snapshot()) == set()
    assert stored_files() == files
    assert response["Content-Type"].startswith(FHIR_JSON), response.content[:200]
    outcome = json.loads(response.content)
    OperationOutcome.model_validate(outcome)
    return response.status_code, outcome["issue"][0]


def category(code: str = "biologie") -> list[dict[str, Any]]:
    return [{"coding": [{"system": CATEGORY_SYSTEM, "code": code}]}]


def lab_report_codes() -> dict[str, Any]:
    """A laboratory report as the CI-SIS names it: class 10 « Compte rendu » (shared by several
    categories) made precise by its LOINC type."""
    return {
        "category": [{"coding": [{"system": CISIS_CLASS_SYSTEM, "code": "10"}]}],
        "type": {"coding": [{"system": LOINC_SYSTEM, "code": "11502-2"}]},
    }


def document_reference(
    patient_id: object,
    *,
    data: bytes | str = PDF,
    content_type: str = "application/pdf",
    title: str = "Bilan sanguin de mars",
    act_date: str = "2026-03-12",
    codes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A DocumentReference with its file inline; ``data`` bytes are base64-encoded, a str is
    sent as it is (to send what is not base64)."""
    encoded = base64.b64encode(data).decode() if isinstance(data, bytes) else data
    return {
        "resourceType": "DocumentReference",
        "status": "current",
        **(codes if codes is not None else {"category": category()}),
        "subject": {"reference": f"Patient/{patient_id}"},
        "context": {"period": {"start": act_date}},
        "description": title,
        "content": [{"attachment": {"contentType": content_type, "data": encoded}}],
    }


def transaction(
    patient_id: object,
    *,
    data: bytes = PDF,
    content_type: str = "application/pdf",
    title: str = "Compte rendu de consultation",
) -> dict[str, Any]:
    """A transaction Bundle: the Binary, and the DocumentReference whose attachment is it."""
    binary_url = "urn:uuid:8c2b6c7e-0f4e-4b8e-9a51-2a3c4d5e6f70"
    reference = document_reference(patient_id, title=title, codes={"category": category()})
    reference["content"] = [{"attachment": {"contentType": content_type, "url": binary_url}}]
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": binary_url,
                "resource": {
                    "resourceType": "Binary",
                    "contentType": content_type,
                    "data": base64.b64encode(data).decode(),
                },
                "request": {"method": "POST", "url": "Binary"},
            },
            {
                "fullUrl": "urn:uuid:1f0e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b",
                "resource": reference,
                "request": {"method": "POST", "url": "DocumentReference"},
            },
        ],
    }
