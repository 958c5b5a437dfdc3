"""What every call of the FHIR API goes through before its view (issue 19): the right method,
no patient identifier in the address, a valid token with the scope the call needs, the rate
limits; and the answer to each failure, an OperationOutcome with its HTTP status.

The API's views are exempt from CSRF checks: CSRF is an attack on cookies, which a browser
sends on its own to a site another page posts to. The API reads no cookie and no session (its
caller is named by the ``Authorization: Bearer`` header only, which a browser never adds to a
cross-site request by itself), so there is no ambient credential to forge a request with; a
test checks that a call with a signed-in portal session but no token is refused (401) and that
no answer sets a cookie.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from dmp_portal.http import client_address
from fhir_api import limits, selectors
from fhir_api.authentication import ApiCaller, InsufficientScope, Unauthenticated, api_caller
from fhir_api.outcomes import operation_outcome
from fhir_api.parameters import BadRequest, nir_in_query

P = ParamSpec("P")
ApiView = Callable[Concatenate[HttpRequest, ApiCaller, P], HttpResponseBase]
log = logging.getLogger("dmp.operations")

# FHIR's XML, which the API does not speak (JSON only): asked in Accept or with ``_format``.
# A raw Binary may be text/xml (a CDA document), so only FHIR's own XML types count here.
_XML_ACCEPT = frozenset({"application/fhir+xml", "application/xml+fhir"})
_XML_FORMAT = frozenset({"xml", "text/xml", "application/xml", "application/fhir+xml"})
_JSON_ACCEPT = frozenset(
    {"application/fhir+json", "application/json+fhir", "application/json", "*/*", "application/*"}
)


def nir_in_address() -> HttpResponse:
    return operation_outcome(
        400,
        "invalid",
        _(
            "Never put a patient's identifier (NIR) in an address: search for the patient with "
            "POST /fhir/Patient/_search and the form field "
            "identifier=urn:oid:1.2.250.1.213.1.4.8|<NIR>."
        ),
    )


def too_many_calls(seconds: int) -> HttpResponse:
    return operation_outcome(
        429,
        "throttled",
        _("Too many calls: try again in %(seconds)d seconds.") % {"seconds": seconds},
        headers={"Retry-After": str(seconds)},
    )


def not_found() -> HttpResponse:
    return operation_outcome(404, "not-found", _("This resource does not exist."))


def method_not_allowed(methods: tuple[str, ...]) -> HttpResponse:
    return operation_outcome(
        405,
        "not-supported",
        _("This address answers %(methods)s only.") % {"methods": ", ".join(methods)},
        headers={"Allow": ", ".join(methods)},
    )


def unexpected_error() -> HttpResponse:
    """The last resort, so that an API client never gets the portal's HTML error page: no
    detail (the log has the traceback)."""
    return operation_outcome(
        500, "exception", _("An unexpected error occurred on the server: try again later.")
    )


def too_many_fields() -> HttpResponse:
    return operation_outcome(
        400,
        "structure",
        _(
            "The request holds too many parameters or form fields: send only those the call "
            "takes (see /fhir/metadata)."
        ),
    )


def xml_not_supported() -> HttpResponse:
    return operation_outcome(
        406,
        "not-supported",
        _(
            "This server answers in FHIR JSON only: ask for application/fhir+json (Accept, or "
            "_format=json)."
        ),
    )


def asks_for_xml(request: HttpRequest) -> bool:
    """Whether the call asks for FHIR XML (``_format``, or an Accept header naming FHIR's XML
    and no JSON or wildcard): answered 406 rather than JSON it did not ask for."""
    if request.GET.get("_format", "").strip().lower() in _XML_FORMAT:
        return True
    accepted = {
        part.split(";")[0].strip().lower() for part in request.headers.get("Accept", "").split(",")
    }
    return bool(accepted & _XML_ACCEPT) and not accepted & _JSON_ACCEPT


def unsupported_address() -> HttpResponse:
    return operation_outcome(
        404,
        "not-supported",
        _(
            "This address is not part of this FHIR API: /fhir/metadata lists what it "
            "implements (Patient search, DocumentReference search, read and create, Binary read)."
        ),
    )


def no_store(response: HttpResponseBase) -> HttpResponseBase:
    """Health data and errors alike: kept by no cache (a proxy, the software's disk)."""
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


def endpoint(
    scope: str | None,
    methods: tuple[str, ...] | None = ("GET",),
    *,
    past_form_limits: Callable[[], HttpResponse] = too_many_fields,
) -> Callable[[ApiView[P]], Callable[Concatenate[HttpRequest, P], HttpResponseBase]]:
    """A view of the API that needs ``scope`` (None: any valid token) and answers
    ``methods`` (None: any); the view receives the ``ApiCaller``. ``past_form_limits``: the
    answer to a query or form past Django's limits (DATA_UPLOAD_MAX_*), which Django would
    answer with the portal's HTML 400 page (a view taking JSON says the body is no JSON)."""

    def decorate(view: ApiView[P]) -> Callable[Concatenate[HttpRequest, P], HttpResponseBase]:
        @csrf_exempt
        @wraps(view)
        def call(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
            try:
                return no_store(_answer(view, scope, methods, request, *args, **kwargs))
            except (RequestDataTooBig, TooManyFieldsSent):
                return no_store(past_form_limits())

        return call

    return decorate


def _answer(
    view: ApiView[P],
    scope: str | None,
    methods: tuple[str, ...] | None,
    request: HttpRequest,
    *args: P.args,
    **kwargs: P.kwargs,
) -> HttpResponseBase:
    try:
        return _checked_call(view, scope, methods, request, *args, **kwargs)
    except (RequestDataTooBig, TooManyFieldsSent):
        raise  # answered by ``endpoint``, as the view declares
    except Exception:  # the last resort: an OperationOutcome, never HTML
        log.exception("FHIR API: unexpected error")
        return unexpected_error()


def _checked_call(
    view: ApiView[P],
    scope: str | None,
    methods: tuple[str, ...] | None,
    request: HttpRequest,
    *args: P.args,
    **kwargs: P.kwargs,
) -> HttpResponseBase:
    # First: an address with a NIR is refused whatever else is wrong with the call.
    if nir_in_query(request.GET):
        return nir_in_address()
    # HEAD is refused (405), not run as a GET whose body is dropped: a HEAD on a Binary or a
    # search would be recorded as a download or a list with nothing sent.
    if methods is not None and request.method not in methods:
        return method_not_allowed(methods)
    if asks_for_xml(request):
        return xml_not_supported()
    try:
        caller = api_caller(request, scope)
    except Unauthenticated as exc:
        return operation_outcome(
            401, "login", str(exc), headers={"WWW-Authenticate": 'Bearer realm="DMP"'}
        )
    except InsufficientScope as exc:
        return operation_outcome(
            403,
            "forbidden",
            str(exc),
            headers={
                "WWW-Authenticate": f'Bearer realm="DMP", error="insufficient_scope", '
                f'scope="{scope}"'
            },
        )
    waiting = limits.wait_before_call(caller.practitioner, caller.client_id)
    if waiting:
        return too_many_calls(waiting)
    try:
        return view(request, caller, *args, **kwargs)
    except BadRequest as exc:
        return operation_outcome(400, "invalid", str(exc))
    except selectors.NotFound:
        return not_found()
    except selectors.Throttled as exc:
        return too_many_calls(exc.seconds)


def address(request: HttpRequest) -> str:
    """The client's address, as the web pages record it."""
    return client_address(request)
