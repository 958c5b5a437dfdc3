"""Thin views of the caregivers' page (issue 17, item 6): ``/access/caregivers/`` lists the
patient's caregivers with the invitation form, the invitations addressed to them (accept or
decline) and the records they help with; each POST calls one service of
``access_control.caregivers``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from access_control import caregivers
from access_control.forms import CaregiverInviteForm
from accounts.authenticated import AuthenticatedRequest
from accounts.models import User
from dmp_portal.http import client_address


def _patient(request: AuthenticatedRequest) -> User:
    if request.user.kind != "patient":
        raise Http404
    return request.user


@login_required
@never_cache
def caregivers_page(request: AuthenticatedRequest) -> HttpResponse:
    """The list and, on POST, an invitation."""
    patient = _patient(request)
    form = CaregiverInviteForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        invitation = caregivers.Invitation(**form.cleaned_data)
        try:
            caregivers.invite(patient, invitation, client_address=client_address(request))
        except caregivers.CaregiverError as error:
            form.add_error(error.field or None, error.message)
        else:
            messages.success(request, _("Invitation sent: the person accepts it in the portal."))
            return redirect("access:caregivers")
    page = caregivers.caregiver_page(patient)
    return render(request, "access_control/caregivers.html", {"form": form, "page": page})


@login_required
@require_POST
def end_caregiver(request: AuthenticatedRequest, grant_id: int) -> HttpResponse:
    patient = _patient(request)
    try:
        caregivers.end(patient, grant_id, client_address=client_address(request))
    except caregivers.CaregiverNotFound:
        raise Http404 from None
    except caregivers.CaregiverError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Caregiver access ended."))
    return redirect("access:caregivers")


@login_required
@require_POST
def answer_invitation(request: AuthenticatedRequest, grant_id: int, accept: bool) -> HttpResponse:
    person = _patient(request)
    try:
        caregivers.answer(person, grant_id, accept=accept, client_address=client_address(request))
    except caregivers.CaregiverNotFound:
        raise Http404 from None
    messages.success(request, _("Invitation accepted.") if accept else _("Invitation declined."))
    return redirect("access:caregivers")
