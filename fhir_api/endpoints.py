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

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec

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


def no_store(response: HttpResponseBase) -> HttpResponseBase:
    """Health data and errors alike: kept by no cache (a proxy, the software's disk)."""
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


def endpoint(
    scope: str, methods: tuple[str, ...] = ("GET",)
) -> Callable[[ApiView[P]], Callable[Concatenate[HttpRequest, P], HttpResponseBase]]:
    """A view of the API that needs ``scope``; the view receives the ``ApiCaller``."""

    def decorate(view: ApiView[P]) -> Callable[Concatenate[HttpRequest, P], HttpResponseBase]:
        @csrf_exempt
        @wraps(view)
        def call(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
            return no_store(_answer(view, scope, methods, request, *args, **kwargs))

        return call

    return decorate


def _answer(
    view: ApiView[P],
    scope: str,
    methods: tuple[str, ...],
    request: HttpRequest,
    *args: P.args,
    **kwargs: P.kwargs,
) -> HttpResponseBase:
    # First: an address with a NIR is refused whatever else is wrong with the call.
    if nir_in_query(request.GET):
        return nir_in_address()
    # HEAD is a GET without its body (the server drops it), as everywhere in Django.
    allowed = (*methods, "HEAD") if "GET" in methods else methods
    if request.method not in allowed:
        return method_not_allowed(allowed)
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
