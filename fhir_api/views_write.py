"""The FHIR API's writes (issue 19, item 2): POST /fhir/DocumentReference (the attachment
inline) and POST /fhir/ (a transaction Bundle of a Binary and its DocumentReference).

Thin: the size of the body, the caller (``api_caller``), the parse (``documents_in``), one
service (``services.add_document``), the answer. Every error is an OperationOutcome.

CSRF-exempt, and why that is safe: CSRF is a forged request that a browser sends with the
credentials it attaches by itself, its cookies. These views never read a cookie nor a session
(``request.user`` is never looked at): the caller is only the bearer token of the
``Authorization`` header, which a browser never adds on its own to a cross-site request and a
page of another site cannot read. A session, with or without a CSRF token, gets 401 here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from access_control import fhir_bundle
from dmp_portal.http import client_address
from fhir_api import documents_in, services
from fhir_api.authentication import ApiCaller, InsufficientScope, Unauthenticated, api_caller
from fhir_api.documents_in import BadResource
from fhir_api.outcomes import fhir_response, operation_outcome
from records.models import Document
from records.selectors import practitioner_name

WRITE_SCOPE = "user/DocumentReference.write"
JSON_TYPES = ("application/fhir+json", "application/json", "")

Resource = dict[str, Any]


@csrf_exempt
@never_cache
def create_document_reference(request: HttpRequest) -> HttpResponse:
    """201 Created, the DocumentReference and its address."""

    def created(caller: ApiCaller, resource: documents_in.Resource, base: str) -> HttpResponse:
        incoming = documents_in.document_reference_in(resource)
        document = services.add_document(
            caller.practitioner,
            incoming,
            application=caller.client_id,
            client_address=client_address(request),
        )
        location = f"{base}DocumentReference/{document.uid}"
        return fhir_response(document_resource(document, base), 201, {"Location": location})

    return _write(request, created)


@csrf_exempt
@never_cache
def transaction(request: HttpRequest) -> HttpResponse:
    """200, the transaction-response Bundle: the Binary and the DocumentReference, created."""

    def created(caller: ApiCaller, resource: documents_in.Resource, base: str) -> HttpResponse:
        incoming = documents_in.transaction_in(resource)
        document = services.add_document(
            caller.practitioner,
            incoming.document,
            application=caller.client_id,
            client_address=client_address(request),
        )
        return fhir_response(transaction_response(document, incoming, base))

    return _write(request, created)


def _write(
    request: HttpRequest, created: Callable[[ApiCaller, documents_in.Resource, str], HttpResponse]
) -> HttpResponse:
    if request.method != "POST":
        return operation_outcome(
            405, "not-supported", _("Only POST is accepted here."), headers={"Allow": "POST"}
        )
    # Refused from its announced length, before a byte of it is read or decoded.
    if _announced_length(request) > documents_in.max_body_bytes():
        return _outcome(documents_in.too_large())
    try:
        caller = api_caller(request, WRITE_SCOPE)
    except Unauthenticated as exc:
        return operation_outcome(401, "login", str(exc), headers={"WWW-Authenticate": "Bearer"})
    except InsufficientScope as exc:
        return operation_outcome(
            403,
            "forbidden",
            str(exc),
            headers={"WWW-Authenticate": 'Bearer error="insufficient_scope"'},
        )
    media_type = request.content_type or ""
    if media_type not in JSON_TYPES:
        return operation_outcome(
            415,
            "not-supported",
            _("Send the resource in JSON, with Content-Type: application/fhir+json."),
        )
    base = request.build_absolute_uri("/fhir/")
    try:
        # Bounded by Content-Length (checked above): Django never reads past it.
        resource = documents_in.read_json(request.read())
        return created(caller, resource, base)
    except BadResource as bad:
        return _outcome(bad)
    except services.PatientNotFound:
        return operation_outcome(
            404,
            "not-found",
            _(
                "No patient with this id whose record you may add to (subject: "
                '{"reference": "Patient/<id>"}, the id found with POST /fhir/Patient/_search).'
            ),
        )


def _announced_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _outcome(bad: BadResource) -> HttpResponse:
    return operation_outcome(bad.status, bad.code, bad.message)


def document_resource(document: Document, base: str) -> Resource:
    """The DocumentReference just added, as the read API shows it."""
    profile = getattr(document.author, "practitioner_profile", None)
    return fhir_bundle.document_reference(
        document.uid,
        patient_url=f"{base}Patient/{document.patient_id}",
        title=document.title,
        category_code=document.category.code,
        category_label=str(document.category.label),
        act_date=document.act_date,
        added_at=document.created_at,
        author=fhir_bundle.practitioner_reference(
            practitioner_name(document.author), profile.rpps if profile is not None else ""
        ),
        media_type=document.media_type,
        size=document.size,
        sha1_digest=None,
        path=f"{base}Binary/{document.uid}",
    )


def transaction_response(
    document: Document, incoming: documents_in.IncomingTransaction, base: str
) -> Resource:
    """Both entries created, in the order of the request's."""
    added = document.created_at.isoformat(timespec="seconds")
    entries = {
        "Binary": {
            "response": {
                "status": "201 Created",
                "location": f"{base}Binary/{document.uid}",
                "lastModified": added,
            },
        },
        "DocumentReference": {
            "resource": document_resource(document, base),
            "response": {
                "status": "201 Created",
                "location": f"{base}DocumentReference/{document.uid}",
                "lastModified": added,
            },
        },
    }
    return {
        "resourceType": "Bundle",
        "type": "transaction-response",
        "entry": [entries[kind] for kind in incoming.order],
    }
