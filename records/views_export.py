"""The copy of the whole record to take away (``/records/export/``): a page asking the second
factor again, then the ZIP, streamed (``access_control.record_export``). Thin: the door, the
factor, the audit, the notice and the ZIP are the service's."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache

from access_control import record_export
from accounts.authenticated import AuthenticatedRequest
from accounts.forms import SecondFactorForm
from accounts.http import known_browser_markers
from accounts.services.authentication import is_known_browser
from dmp_portal.http import client_address


def _session_used_passkey(request: HttpRequest) -> bool:
    """As on the security page (accounts/views_security.py): a session opened with a passkey
    proved a phishing-resistant factor, and is not asked for a code again."""
    return getattr(getattr(request.user, "otp_device", None), "phishing_resistant", False)


@login_required
@never_cache
def export(request: AuthenticatedRequest) -> HttpResponseBase:
    user = request.user
    patient = user if user.kind == "patient" else None  # one's own record, never another's
    ask_code = not _session_used_passkey(request)
    form = SecondFactorForm(request.POST if request.method == "POST" else None)
    try:
        if request.method != "POST":
            record_export.check_export_allowed(
                user, patient, client_address=client_address(request)
            )
        else:
            copy = record_export.prepare_export(
                user,
                patient,
                request.POST.get("otp_token", ""),
                session_used_passkey=not ask_code,
                known_browser=is_known_browser(known_browser_markers(request), user),
                client_address=client_address(request),
            )
            return _zip_response(copy)
    except record_export.ExportNotFound as exc:
        raise Http404 from exc
    except record_export.ExportRefused as refusal:
        if form.is_valid():  # else the field already says the code is missing
            form.add_error("otp_token", refusal.message)
    return render(request, "records/export.html", {"form": form, "ask_code": ask_code})


def _zip_response(copy: record_export.RecordExport) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        record_export.export_stream(copy), content_type="application/zip"
    )
    response["Content-Disposition"] = content_disposition_header(True, copy.file_name)
    response["Cache-Control"] = "no-store"
    return response
