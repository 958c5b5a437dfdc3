"""The FHIR API's reads (issue 19; README, « FHIR API »): parse, call one selector, answer.
Every view but ``metadata`` goes through ``endpoints.endpoint`` (token, scope, limits, errors).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseBase, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from audit.models import Action
from fhir_api import parameters, resources, selectors
from fhir_api.authentication import ApiCaller
from fhir_api.capability import capability_statement
from fhir_api.endpoints import (
    address,
    asks_for_xml,
    endpoint,
    method_not_allowed,
    nir_in_address,
    no_store,
    unsupported_address,
    xml_not_supported,
)
from fhir_api.outcomes import fhir_response, operation_outcome
from fhir_api.parameters import nir_in_query


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("fhir:metadata")).removesuffix("metadata")


@csrf_exempt
def metadata(request: HttpRequest) -> HttpResponseBase:
    """Public, as FHIR wants it: what the API does and where its authorization server is."""
    if request.method != "GET":
        return no_store(method_not_allowed(("GET",)))
    if asks_for_xml(request):
        return no_store(xml_not_supported())
    statement = capability_statement(
        base=_base(request),
        authorize_url=request.build_absolute_uri(reverse("oauth2_provider:authorize")),
        token_url=request.build_absolute_uri(reverse("oauth2_provider:token")),
        revoke_url=request.build_absolute_uri(reverse("oauth2_provider:revoke-token")),
        published=timezone.now(),
    )
    return fhir_response(statement)


@csrf_exempt
def patient_type(request: HttpRequest) -> HttpResponseBase:
    """``/fhir/Patient``: no interaction of its own (no Patient is read but through a
    search). A call whose address carries a NIR is refused (400) with the way to search; any
    other, 405 with the same way, before any token is read."""
    if nir_in_query(request.GET):
        return no_store(nir_in_address())
    return no_store(
        operation_outcome(
            405,
            "not-supported",
            _(
                "Search for a patient with POST /fhir/Patient/_search and the form field "
                "identifier=urn:oid:1.2.250.1.213.1.4.8|<NIR>."
            ),
            # This address takes no method: the search has its own (POST .../_search).
            headers={"Allow": ""},
        )
    )


@endpoint("user/Patient.read", methods=("POST",))
def patient_search(request: HttpRequest, caller: ApiCaller) -> HttpResponseBase:
    """``POST /fhir/Patient/_search``, form-encoded: the NIR travels in the body only."""
    normalised = parameters.searched_nir(request.POST)
    match = selectors.search_patient(
        caller.practitioner,
        normalised,
        application=caller.client_id,
        client_address=address(request),
    )
    base = _base(request)
    entries = (
        [] if match is None else [(f"{base}Patient/{match.patient_id}", resources.patient(match))]
    )
    bundle = resources.searchset(
        entries,
        total=len(entries),
        # The search was a POST of its NIR: the self link names the search, never the NIR.
        links=[("self", f"{base}Patient/_search")],
        timestamp=timezone.now(),
    )
    return fhir_response(bundle)


@endpoint("user/DocumentReference.read")
def document_search(request: HttpRequest, caller: ApiCaller) -> HttpResponseBase:
    """``GET /fhir/DocumentReference?patient=<id>`` with ``category``, ``date``, ``period``,
    ``_count`` and ``_page``; the paging links carry these (the Patient's id, never a NIR)."""
    patient_id = parameters.patient_reference(request.GET)
    search, page = parameters.document_search(request.GET)
    found = selectors.search_documents(
        caller.practitioner,
        patient_id,
        search,
        application=caller.client_id,
        client_address=address(request),
    )
    base = _base(request)
    entries = [
        (f"{base}DocumentReference/{document.uid}", resources.document_reference(document, base))
        for document in found.documents
    ]
    bundle = resources.searchset(
        entries,
        total=found.total,
        links=parameters.paging_links(
            request.GET, base, str(found.patient.pk), search.count, page, found.total
        ),
        timestamp=timezone.now(),
    )
    return fhir_response(bundle)


@endpoint("user/DocumentReference.read")
def document_read(request: HttpRequest, caller: ApiCaller, document_id: str) -> HttpResponseBase:
    document = selectors.read_document(
        caller.practitioner,
        document_id,
        Action.VIEW,
        application=caller.client_id,
        client_address=address(request),
    )
    return fhir_response(resources.document_reference(document, _base(request)))


@endpoint("user/Binary.read")
def binary_read(request: HttpRequest, caller: ApiCaller, document_id: str) -> HttpResponseBase:
    """The original file, decrypted as it streams, with its type; as a Binary resource when
    the software asks for FHIR JSON (``Accept: application/fhir+json``). A download, audited
    as the web page's."""
    document = selectors.read_document(
        caller.practitioner,
        document_id,
        Action.DOWNLOAD,
        application=caller.client_id,
        client_address=address(request),
    )
    content = selectors.document_content(document)
    if "application/fhir+json" in request.headers.get("Accept", ""):
        return fhir_response(resources.binary(document, b"".join(content)))
    response = StreamingHttpResponse(content, content_type=document.media_type)
    response["X-Content-Type-Options"] = "nosniff"
    # Saved, never shown by a browser that would reach it (no title: it is health data).
    response["Content-Disposition"] = "attachment"
    return response


@endpoint(None, methods=None)
def unknown(request: HttpRequest, caller: ApiCaller, rest: str) -> HttpResponseBase:
    """Any other address under /fhir/ (``Patient/<id>``, ``Observation``...): an
    OperationOutcome, never the portal's HTML page; as every call, 401 without a valid token
    (whatever its scopes), then 404 ``not-supported`` pointing to the CapabilityStatement."""
    return unsupported_address()
