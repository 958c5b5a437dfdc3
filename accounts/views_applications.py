"""/accounts/applications/: the applications a practitioner let act in their name, and the
revocation of one (issue 19; README, « FHIR API »).

Thin: the list is ``accounts.applications.connected_applications``, the revocation
``accounts.services.applications.revoke_application``. Anyone but a practitioner gets 404, as
on the other practitioners' pages; an application without a live access of this practitioner
(someone else's, revoked already, unknown) is 404 too, and nothing changes.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.applications import connected_applications, may_approve_applications
from accounts.authenticated import AuthenticatedRequest
from accounts.services.applications import ApplicationNotFound, revoke_application
from dmp_portal.http import client_address


def _practitioner_only(request: AuthenticatedRequest) -> None:
    if not may_approve_applications(request.user):
        raise Http404


@require_GET
@never_cache
@login_required
def application_list(request: AuthenticatedRequest) -> HttpResponse:
    _practitioner_only(request)
    return render(
        request,
        "accounts/applications.html",
        {"applications": connected_applications(request.user)},
    )


@login_required
@require_POST
def revoke(request: AuthenticatedRequest, application_id: int) -> HttpResponse:
    _practitioner_only(request)
    try:
        name = revoke_application(
            request.user, application_id, client_address=client_address(request)
        )
    except ApplicationNotFound:
        raise Http404 from None
    messages.success(
        request,
        _("The access of %(name)s was revoked: it can no longer act in your name.")
        % {"name": name},
    )
    return redirect("accounts:applications")
