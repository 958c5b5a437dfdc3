"""FHIR answers: the media type, JSON bodies and OperationOutcome errors (issue 19).

Every error of the API is an OperationOutcome with the HTTP status that says what went wrong;
its text is French, as on the web pages, and names the expected format when the input was bad.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.http import HttpResponse

FHIR_JSON = "application/fhir+json; charset=utf-8"


def fhir_response(
    resource: Mapping[str, Any], status: int = 200, headers: Mapping[str, str] | None = None
) -> HttpResponse:
    body = json.dumps(resource, ensure_ascii=False, separators=(",", ":"))
    response = HttpResponse(body, status=status, content_type=FHIR_JSON)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def operation_outcome(
    status: int,
    code: str,
    diagnostics: str,
    *,
    headers: Mapping[str, str] | None = None,
) -> HttpResponse:
    """One issue, severity ``error``; ``code`` from FHIR's IssueType value set (``login``,
    ``forbidden``, ``not-found``, ``invalid``, ``structure``, ``too-costly``, ``throttled``...)."""
    resource = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": str(diagnostics)}],
    }
    return fhir_response(resource, status, headers)
