"""Thin views: the patient closes their record, or reopens it (``access_control.closure``).

Each page first says what the act does; the form asks the password and a fresh second factor
again. Only a patient reaches them (anyone else: 404, as for any record not theirs); they name
no record in their address: the patient's own is the only one they can act on.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from access_control import closure
from accounts.authenticated import AuthenticatedRequest
from accounts.forms import SecondFactorForm
from accounts.http import known_browser_markers
from accounts.models import UserKind
from accounts.services.authentication import is_known_browser
from dmp_portal.http import client_address


class ReauthenticationForm(forms.Form):
    """The password and a fresh second factor, checked by the service (throttled)."""

    password = forms.CharField(
        label=gettext_lazy("Your password"),
        strip=False,
        max_length=1024,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": gettext_lazy("Enter your password.")},
    )
    otp_token = SecondFactorForm.base_fields["otp_token"]


def _patient(request: AuthenticatedRequest) -> None:
    if request.user.kind != UserKind.PATIENT:
        raise Http404


def _act(request: AuthenticatedRequest, service, form: ReauthenticationForm) -> bool:
    """Call ``service`` with the form's password and code; False (errors on the form) if
    refused."""
    try:
        service(
            request.user,
            password=form.cleaned_data["password"],
            otp_token=form.cleaned_data["otp_token"],
            client_address=client_address(request),
            known_browser=is_known_browser(known_browser_markers(request), request.user),
        )
    except closure.ClosureRefused as refusal:
        form.add_error(refusal.field or None, refusal.message)
        return False
    return True


@login_required
@require_http_methods(["GET", "POST"])
@never_cache
@csrf_protect
@sensitive_post_parameters("password", "otp_token")
def close_record(request: AuthenticatedRequest) -> HttpResponse:
    _patient(request)
    current = closure.closure_of(request.user)
    form = ReauthenticationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if _act(request, closure.close_record, form):
            messages.success(request, _("Your record is closed."))
            return redirect("access:patient-home")
        current = closure.closure_of(request.user)
    context = {"form": form, "closure": current, "years": settings.RECORD_ARCHIVE_YEARS}
    return render(request, "records/close.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@never_cache
@csrf_protect
@sensitive_post_parameters("password", "otp_token")
def reopen_record(request: AuthenticatedRequest) -> HttpResponse:
    _patient(request)
    form = ReauthenticationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid() and _act(request, closure.reopen_record, form):
        messages.success(
            request,
            _(
                "Your record is open again. Health professionals read it again only once "
                "you give them access."
            ),
        )
        return redirect("access:patient-home")
    context = {"form": form, "closure": closure.closure_of(request.user)}
    return render(request, "records/reopen.html", context)
