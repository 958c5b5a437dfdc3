"""The FHIR API's writes (issue 19, item 2): POST /fhir/DocumentReference (the attachment
inline) and POST /fhir/ (a transaction Bundle of a Binary and its DocumentReference).

Thin: the size of the body, then what every call goes through (``endpoints.endpoint``: the
token and its scope, the rate limits, the answer to each failure), the parse
(``documents_in``), one service (``services.add_document``), the answer. Every error is an
OperationOutcome. CSRF-exempt, as every view of the API: the caller is the bearer token of the
``Authorization`` header only, which a browser never adds by itself to a cross-site request;
no cookie nor session is read (``endpoints``' docstring says more).
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from fhir_api import documents_in, resources, services, views
from fhir_api.authentication import ApiCaller
from fhir_api.bad_resource import BadResource
from fhir_api.endpoints import (
    address,
    endpoint,
    log,
    method_not_allowed,
    no_store,
    unexpected_error,
)
from fhir_api.outcomes import fhir_response, operation_outcome

WRITE_SCOPE = "user/DocumentReference.write"
JSON_TYPES = ("application/fhir+json", "application/json", "")

Resource = documents_in.Resource


@csrf_exempt
def document_type(request: HttpRequest) -> HttpResponseBase:
    """``/fhir/DocumentReference``: a search (GET, ``views.document_search``) or a new
    document (POST)."""
    if request.method == "POST":
        return create_document_reference(request)
    if request.method == "GET":
        return views.document_search(request)
    return no_store(method_not_allowed(("GET", "POST")))


@csrf_exempt
def create_document_reference(request: HttpRequest) -> HttpResponseBase:
    """201 Created, the DocumentReference and its address."""
    return _checked(request, _create)


@csrf_exempt
def transaction(request: HttpRequest) -> HttpResponseBase:
    """200, the transaction-response Bundle: the Binary and the DocumentReference, created."""
    return _checked(request, _transaction)


def _checked(
    request: HttpRequest, write: Callable[[HttpRequest], HttpResponseBase]
) -> HttpResponseBase:
    try:
        return _too_large(request) or write(request)
    except (RequestDataTooBig, TooManyFieldsSent):
        # A form body past Django's limits for form fields (the token's check reads form
        # parameters, as OAuth 2.0 allows them): not JSON, so not what these addresses take;
        # answered as such rather than with the portal's HTML error page.
        return no_store(_not_json())
    except Exception:  # the last resort (as endpoints._answer): an OperationOutcome, never HTML
        log.exception("FHIR API: unexpected error")
        return no_store(unexpected_error())


@endpoint(WRITE_SCOPE, methods=("POST",), past_form_limits=lambda: _not_json())
def _create(request: HttpRequest, caller: ApiCaller) -> HttpResponseBase:
    def created(resource: Resource, base: str) -> HttpResponse:
        document = services.add_document(
            caller.practitioner,
            documents_in.document_reference_in(resource),
            application=caller.client_id,
            client_address=address(request),
        )
        location = f"{base}DocumentReference/{document.uid}"
        resource_out = resources.document_reference(document, base)
        return fhir_response(resource_out, 201, {"Location": location})

    return _written(request, created)


@endpoint(WRITE_SCOPE, methods=("POST",), past_form_limits=lambda: _not_json())
def _transaction(request: HttpRequest, caller: ApiCaller) -> HttpResponseBase:
    def created(resource: Resource, base: str) -> HttpResponse:
        incoming = documents_in.transaction_in(resource)
        document = services.add_document(
            caller.practitioner,
            incoming.document,
            application=caller.client_id,
            client_address=address(request),
        )
        return fhir_response(resources.transaction_response(document, incoming.order, base))

    return _written(request, created)


def _too_large(request: HttpRequest) -> HttpResponseBase | None:
    """413 from the announced length, before a byte of the body is read or decoded (and
    before the token is looked at: nothing of such a request is worth reading)."""
    try:
        announced = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        announced = 0
    if announced <= documents_in.max_body_bytes():
        return None
    return no_store(_outcome(documents_in.too_large()))


def _written(
    request: HttpRequest, created: Callable[[Resource, str], HttpResponse]
) -> HttpResponse:
    if (request.content_type or "") not in JSON_TYPES:
        return _not_json()
    base = request.build_absolute_uri("/fhir/")
    try:
        # Bounded by Content-Length (checked first): Django never reads past it.
        return created(documents_in.read_json(request.read()), base)
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


def _not_json() -> HttpResponse:
    return operation_outcome(
        415,
        "not-supported",
        _("Send the resource in JSON, with Content-Type: application/fhir+json."),
    )


def _outcome(bad: BadResource) -> HttpResponse:
    return operation_outcome(bad.status, bad.code, bad.message)
