"""The two addresses of the sign-in through the OpenID Connect provider (issue 19, item 4):
``/oidc/authenticate/`` sends the browser to the provider, ``/oidc/callback/`` is where it
comes back. Both answer 404 while the sign-in is disabled (``DMP_OIDC_ENABLED``).

Thin: the first is mozilla-django-oidc's own view (state, nonce and PKCE kept in the session);
the second takes the place of the library's, whose refusals are Django's 400 page or a bare
redirect: every way this can fail (a state unknown or already used, an error of the provider,
a token that does not hold, an account that may not come in) ends on the login page with a
French message.
"""

from __future__ import annotations

import logging

import jwt
import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from mozilla_django_oidc.views import OIDCAuthenticationRequestView

from accounts import services
from accounts.http import next_url
from accounts.models import User
from accounts.oidc import complete_provider_login
from accounts.services.oidc import provider_refusal, record_provider_failure
from dmp_portal.http import client_address

logger = logging.getLogger("dmp.security")

# Where mozilla-django-oidc keeps each sign-in begun in this session: state -> nonce, verifier.
STATES_SESSION_KEY = "oidc_states"
# What a token exchange or check may raise: an answer of the provider that does not hold.
PROVIDER_FAILURES = (
    SuspiciousOperation,
    requests.RequestException,
    jwt.PyJWTError,
    ValueError,
    KeyError,
    TypeError,
)

_to_provider = OIDCAuthenticationRequestView.as_view()


def _enabled() -> None:
    if not settings.DMP_OIDC_ENABLED:
        raise Http404


def _back_to_login(request: HttpRequest, refusal: services.LoginRefused) -> HttpResponse:
    messages.error(request, refusal.message)
    return redirect("accounts:login")


@never_cache
@require_GET
def begin(request: HttpRequest) -> HttpResponse:
    """To the provider, with a new state, nonce and PKCE challenge (S256)."""
    _enabled()
    if request.user.is_authenticated:
        return redirect("accounts:login")
    return _to_provider(request)


@never_cache
@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    """The provider's answer: the practitioner signed in, or the login page with why not."""
    _enabled()
    states = request.session.get(STATES_SESSION_KEY)
    state = request.GET.get("state", "")
    if not isinstance(states, dict) or state not in states:
        # Begun in another browser, or already used (a replay): nothing to record, since
        # anyone may send this address as often as they like.
        logger.warning("OpenID Connect callback without a pending state")
        return _back_to_login(request, provider_refusal())
    flow = states.pop(state)
    # Used once: saved now, before the slow exchange, so that a second use finds nothing.
    request.session.modified = True
    request.session.save()
    address = client_address(request)
    if "code" not in request.GET:
        record_provider_failure(client_address=address, reason="oidc-error")
        return _back_to_login(request, provider_refusal())
    try:
        user = authenticate(
            request, nonce=flow.get("nonce"), code_verifier=flow.get("code_verifier")
        )
    except services.LoginRefused as refusal:
        return _back_to_login(request, refusal)
    except PROVIDER_FAILURES as failure:
        logger.warning("OpenID Connect sign-in failed: %s", type(failure).__name__)
        record_provider_failure(client_address=address, reason="oidc-token")
        return _back_to_login(request, provider_refusal())
    if not isinstance(user, User):
        record_provider_failure(client_address=address, reason="oidc-token")
        return _back_to_login(request, provider_refusal())
    response = redirect("home")
    complete_provider_login(request, response, user)
    response["Location"] = next_url(request)
    services.remember_language(user, translation.get_language())
    return response
