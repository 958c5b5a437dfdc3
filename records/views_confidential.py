"""Thin views of a minor's confidential care (issue 17, item 4; public health code art.
L1111-5): its practitioner author keeps a document of a minor's record from the legal
representatives, or lifts it, on the document's page; and the upload form that offers it at
the upload on a minor's record only. The rules are in access_control.confidential (which reads
the registry's birth date, which this app does not know); a refusal is a 404, never a hint."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from access_control import confidential as rules
from access_control import policy
from accounts.authenticated import AuthenticatedRequest
from accounts.models import User
from dmp_portal.http import client_address
from records.forms import MinorProUploadForm, ProUploadForm
from records.models import Document
from records.selectors import DocumentNotFound


def pro_upload_form(actor: User, patient: User | None) -> type[ProUploadForm]:
    """The practitioner's upload form: with the confidentiality checkbox on a minor's record
    only, for a practitioner the door lets upload (records.views.upload_page then asks the door
    again, recorded, before the form is shown or read)."""
    return MinorProUploadForm if rules.offered_at_upload(actor, patient) else ProUploadForm


def control(
    reader: User, document: Document, access: policy.RecordAccess | None = None
) -> rules.ConfidentialControl:
    """The control of the document's page (templates/records/confidential_control.html)."""
    return rules.control_for(reader, document, access=access)


@login_required
@require_POST
def set_confidential(request: AuthenticatedRequest, uid, confidential: bool) -> HttpResponse:
    """Keep the document from the legal representatives, or lift it (the URL says which)."""
    try:
        rules.set_confidential(
            request.user, uid, confidential, client_address=client_address(request)
        )
    except rules.NotAMinor as refused:
        messages.error(request, refused.message)
        return redirect("records:document", uid=uid)
    except DocumentNotFound as exc:
        raise Http404 from exc
    if confidential:
        done = _(
            "The legal representatives no longer see this document, nor any trace of it. The"
            " minor sees it."
        )
    else:
        done = _("The legal representatives can see this document again.")
    messages.success(request, done)
    return redirect("records:document", uid=uid)
