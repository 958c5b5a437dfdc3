"""The security page (second factors and passkeys) and the passkeys' steps.

Thin: each view reads the request, calls one service, and answers a page or JSON. The passkey
steps are POSTs with the CSRF token (static/js/passkeys.js): the options come back as JSON, and
the browser's answer goes as JSON in the ``credential`` field of an ordinary form post (with
``name`` when adding a key), so that Django reads and checks it like any form. The challenge
each step hands out is kept in the session and given back once.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_POST

from accounts import services
from accounts.authenticated import AuthenticatedRequest
from accounts.forms import PasskeyNameForm
from accounts.http import complete_login, known_browser_markers, next_url, remember_next
from accounts.models import UserKind
from accounts.selectors import has_passkey, second_factors
from accounts.services.passkey_enrolment import needs_enrolment_code
from accounts.services.passkeys import (
    PasskeyNotFound,
    PasskeyRefused,
    add_passkey,
    authentication_options,
    parse_credential,
    registration_options,
    remove_passkey,
    verify_passkey,
)
from dmp_portal.http import client_address

REGISTRATION_CHALLENGE = "_dmp_passkey_registration"
REGISTRATION_ENROLMENT = "_dmp_passkey_enrolment"
LOGIN_CHALLENGE = "_dmp_passkey_login"


def _session_used_passkey(request: HttpRequest) -> bool:
    return getattr(getattr(request.user, "otp_device", None), "phishing_resistant", False)


def _passkey_address(request: HttpRequest) -> str | None:
    """Where passkeys work, when it is not the address of this page: browsers sign for the
    portal's own address only (in development, localhost rather than 127.0.0.1)."""
    here = f"{request.scheme}://{request.get_host()}"
    if here in settings.WEBAUTHN_ORIGINS:
        return None
    return settings.WEBAUTHN_ORIGINS[0] + request.path


@never_cache
@require_GET
@login_required
def security(request: AuthenticatedRequest) -> HttpResponse:
    remember_next(request)  # the administration sends its staff here, and back
    user = request.user
    staff_needs_passkey = user.kind == UserKind.STAFF and not _session_used_passkey(request)
    return render(
        request,
        "accounts/security.html",
        {
            "factors": second_factors(user),
            "staff_needs_passkey": staff_needs_passkey,
            "staff_has_passkey": staff_needs_passkey and has_passkey(user),
            "passkey_address": _passkey_address(request),
            # A session opened with a passkey adds another without typing a code.
            "name_form": PasskeyNameForm(
                ask_code=not _session_used_passkey(request),
                ask_enrolment_code=needs_enrolment_code(user),
            ),
        },
    )


@never_cache
@csrf_protect
@login_required
@require_POST
def passkey_registration_options(request: AuthenticatedRequest) -> HttpResponse:
    request.session.pop(REGISTRATION_CHALLENGE, None)  # a refused try leaves no challenge behind
    request.session.pop(REGISTRATION_ENROLMENT, None)
    user = request.user
    try:
        ceremony = registration_options(
            user,
            request.POST.get("name", ""),
            request.POST.get("otp_token", ""),
            session_used_passkey=_session_used_passkey(request),
            client_address=client_address(request),
            known_browser=services.is_known_browser(known_browser_markers(request), user),
            enrolment_code=request.POST.get("enrolment_code", ""),
        )
    except (services.LoginRefused, PasskeyRefused) as refusal:
        return JsonResponse({"error": refusal.message}, status=400)
    request.session[REGISTRATION_CHALLENGE] = ceremony.challenge
    if ceremony.enrolment_id is not None:
        request.session[REGISTRATION_ENROLMENT] = ceremony.enrolment_id
    return HttpResponse(ceremony.options_json, content_type="application/json")


@never_cache
@csrf_protect
@login_required
@require_POST
def passkey_register(request: AuthenticatedRequest) -> HttpResponse:
    try:
        add_passkey(
            request.user,
            request.POST.get("name", ""),
            parse_credential(request.POST.get("credential", "")),
            request.session.pop(REGISTRATION_CHALLENGE, None),
            client_address=client_address(request),
            session_used_passkey=_session_used_passkey(request),
            enrolment_id=request.session.pop(REGISTRATION_ENROLMENT, None),
        )
    except PasskeyRefused as refusal:
        return JsonResponse({"error": refusal.message}, status=400)
    messages.success(request, _("Your passkey was added."))
    return JsonResponse({"redirect": reverse("accounts:security")})


@never_cache
@csrf_protect
@login_required
@require_POST
def passkey_remove(request: AuthenticatedRequest, device_id: int) -> HttpResponse:
    try:
        remove_passkey(request.user, device_id, client_address=client_address(request))
    except PasskeyNotFound as missing:
        raise Http404 from missing
    except PasskeyRefused as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, _("The passkey was removed."))
    return redirect("accounts:security")


@never_cache
@csrf_protect
@login_required
@require_POST
def passkey_login_options(request: AuthenticatedRequest) -> HttpResponse:
    """The challenge of the login's second step (or of a staff member confirming a session
    with a passkey before the administration)."""
    ceremony = authentication_options(request.user)
    request.session[LOGIN_CHALLENGE] = ceremony.challenge
    return HttpResponse(ceremony.options_json, content_type="application/json")


@never_cache
@csrf_protect
@login_required
@require_POST
def passkey_login(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    try:
        device = verify_passkey(
            user,
            parse_credential(request.POST.get("credential", "")),
            request.session.pop(LOGIN_CHALLENGE, None),
            client_address=client_address(request),
            known_browser=services.is_known_browser(known_browser_markers(request), user),
        )
    except services.LoginRefused as refusal:
        return JsonResponse({"error": refusal.message}, status=400)
    response = JsonResponse({"redirect": next_url(request)})
    complete_login(request, response, user, device)
    services.remember_language(user, translation.get_language())
    return response
