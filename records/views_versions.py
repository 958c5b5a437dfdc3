"""Thin views of a document's later life (issue 16): a new version by its author, and the
practitioner author's controls (hold back until an announcement, reveal, withdraw). The door
decides in records.versions; a refusal is a 404, never a hint."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.authenticated import AuthenticatedRequest
from dmp_portal.http import client_address
from records import selectors, versions
from records.file_types import RejectedFile
from records.forms import ReplaceForm
from records.models import Category
from records.uploads import upload_was_cut


@login_required
@never_cache
def replace(request: AuthenticatedRequest, uid) -> HttpResponse:
    """The form of a new version: the door first (a refused user never sees the form nor has a
    file read), then the same checks as an upload."""
    address = client_address(request)
    try:
        document = selectors.document_to_replace(request.user, uid, client_address=address)
    except selectors.DocumentNotFound as exc:
        raise Http404 from exc
    if request.method == "POST":
        form = ReplaceForm(request.POST, request.FILES, cut_off=upload_was_cut(request))
    else:
        form = ReplaceForm(document=document)
    if request.method == "POST" and form.is_valid():
        try:
            version = versions.replace_document(
                request.user,
                uid,
                upload=form.cleaned_data["file"],
                title=form.cleaned_data["title"],
                category=Category.objects.get(code=form.cleaned_data["category"]),
                act_date=form.cleaned_data["act_date"],
                client_address=address,
            )
        except RejectedFile as rejected:
            form.add_error("file", rejected.message)
        except selectors.DocumentNotFound as exc:
            raise Http404 from exc
        else:
            messages.success(request, _("The new version replaces the previous one."))
            return redirect("records:document", uid=version.uid)
    return render(request, "records/replace.html", {"form": form, "document": document})


def _post(request: AuthenticatedRequest, uid, change):
    try:
        return change(request.user, uid, client_address=client_address(request))
    except selectors.DocumentNotFound as exc:
        raise Http404 from exc


@login_required
@require_POST
def hold(request: AuthenticatedRequest, uid) -> HttpResponse:
    _post(request, uid, versions.hold_document)
    messages.success(
        request, _("The patient will not see this document until you reveal it after telling them.")
    )
    return redirect("records:document", uid=uid)


@login_required
@require_POST
def reveal(request: AuthenticatedRequest, uid) -> HttpResponse:
    _post(request, uid, versions.reveal_document)
    messages.success(request, _("The patient can now see this document."))
    return redirect("records:document", uid=uid)


@login_required
@require_POST
def withdraw(request: AuthenticatedRequest, uid) -> HttpResponse:
    document = _post(request, uid, versions.withdraw_document)
    messages.success(request, _("The document was withdrawn from the patient's record."))
    return redirect("access:pro-record", patient_id=document.patient_id)
