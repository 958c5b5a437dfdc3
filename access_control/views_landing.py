"""The page each kind of user lands on after login (settings.LANDING_URL_NAMES). Thin."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from access_control import landing
from access_control.forms import FindPatientForm
from accounts.authenticated import AuthenticatedRequest
from accounts.models import UserKind
from dmp_portal.http import client_address


def _of_kind(request: AuthenticatedRequest, kind: str) -> None:
    if request.user.kind != kind:
        raise Http404


@login_required
@require_GET
@never_cache
def patient_home(request: AuthenticatedRequest) -> HttpResponse:
    _of_kind(request, UserKind.PATIENT)
    summary = landing.patient_summary(request.user, client_address=client_address(request))
    return render(request, "access_control/patient_home.html", {"summary": summary})


@login_required
@require_GET
@never_cache
def pro_workspace(request: AuthenticatedRequest) -> HttpResponse:
    _of_kind(request, UserKind.PRACTITIONER)
    return render(
        request,
        "access_control/pro_workspace.html",
        {"workspace": landing.practitioner_workspace(request.user), "form": FindPatientForm()},
    )


@login_required
@require_GET
@never_cache
def staff_home(request: AuthenticatedRequest) -> HttpResponse:
    # Staff accounts only ever reach the admin once verified (the second-factor middleware).
    if request.user.kind != UserKind.STAFF or not request.user.is_staff:
        raise Http404
    return render(request, "access_control/staff_home.html", {"queues": landing.staff_queues()})
