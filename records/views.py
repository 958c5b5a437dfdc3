"""Thin views of the patient's record. The door decides; a refusal is a 404, never a hint."""

from __future__ import annotations

from csp.decorators import csp_update
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from access_control import acting, closure
from accounts.authenticated import AuthenticatedRequest
from accounts.models import User
from audit.models import Action
from dmp_portal.http import client_address
from records import document_details, downloads, selectors, services, views_confidential
from records.file_types import RejectedFile
from records.forms import RecordFilterForm, UploadForm
from records.models import Category
from records.uploads import upload_was_cut


def current_record(request: AuthenticatedRequest) -> acting.Current | None:
    """The record this page acts on (issue 17): a patient's own, or the one they chose with the
    switch, the door asked again on this request (``acting.current``); a choice the door no
    longer allows falls back to their own record, said once. None for anyone else."""
    if request.user.kind != "patient":
        return None
    now = acting.current(request.user, request.session)
    if now.ended:
        messages.warning(request, acting.ended_message())
    return now


@login_required
@never_cache
def record_list(request: AuthenticatedRequest) -> HttpResponse:
    form = RecordFilterForm(request.GET or None)
    filters = form.filters()
    record = current_record(request)
    try:
        listing = selectors.record_listing(
            request.user,
            record.owner if record is not None else None,
            filters,
            request.GET.get("page"),
            client_address=client_address(request),
            acting_for=record is not None and record.acting_for,
        )
    except selectors.DocumentNotFound as exc:
        raise Http404 from exc
    form.offer_categories(listing.categories)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "records/list.html",
        {
            "form": form,
            # Rendered once per process and key, not per request (issue 20, item 4).
            "filters_html": form.unbound_html(reverse("records:list")),
            "page": listing.page,
            "query": query.urlencode(),
            "filtered": filters.narrowed,
            # Closed (issue 16): the page says so, and how to export and reopen. Acting for
            # someone, the record is open (the door refuses a closed one).
            "record_closure": closure.closure_of(request.user)
            if listing.closed and not (record and record.acting_for)
            else None,
            "record": record,
            # Acting for someone: "Add a document" only when the door allows it (issue 17).
            "may_upload": record is not None
            and record.acting_for
            and selectors.may_upload(request.user, record.owner, acting_for=True),
        },
    )


def upload_page(
    request: AuthenticatedRequest,
    patient,
    *,
    template: str,
    context: dict,
    on_success,
    form_class: type[UploadForm] = UploadForm,
    acting_for: bool = False,
) -> HttpResponse:
    """The upload form of ``patient``'s record, for the patient or a practitioner: the door
    first (a refused user never sees the form nor has a file read), then the form, then the
    service. ``on_success(document)`` gives the response after a stored document.
    ``form_class``: the practitioner's form adds the author's controls (``ProUploadForm``).
    ``acting_for``: the record chosen with the switch (issue 17)."""
    try:
        selectors.check_upload_allowed(
            request.user, patient, client_address=client_address(request), acting_for=acting_for
        )
    except selectors.RecordClosed:
        return _closed(request)
    except selectors.DocumentNotFound as exc:
        raise Http404 from exc
    posted = request.method == "POST"
    form = (
        form_class(request.POST, request.FILES, cut_off=upload_was_cut(request))
        if posted
        else form_class()
    )
    if posted and form.is_valid():
        try:
            document = services.upload_document(
                request.user,
                patient,
                title=form.cleaned_data["title"],
                category=Category.objects.get(code=form.cleaned_data["category"]),
                act_date=form.cleaned_data["act_date"],
                upload=form.cleaned_data["file"],
                client_address=client_address(request),
                hidden_by_author=form.cleaned_data.get("hidden_by_author", False),
                held=form.cleaned_data.get("held", False),
                confidential_from_representatives=form.cleaned_data.get(
                    "confidential_from_representatives", False
                ),
                acting_for=acting_for,
            )
        except RejectedFile as rejected:
            form.add_error("file", rejected.message)
        except selectors.RecordClosed:
            return _closed(request)
        except selectors.DocumentNotFound as exc:
            raise Http404 from exc
        else:
            return on_success(document)
    return render(request, template, {"form": form, **context})


def _closed(request: AuthenticatedRequest) -> HttpResponse:
    """The door refused a change to the patient's closed record (issue 16, recorded): the
    patient is told why, on their record's page, rather than given a 404."""
    messages.error(request, closure.closed_record_message())
    return redirect("records:list")


@login_required
@never_cache
def upload(request: AuthenticatedRequest) -> HttpResponse:
    record = current_record(request)
    helping = record is not None and record.acting_for
    if request.method == "POST" and record is not None:
        try:
            acting.check_form(record, request.POST)
        except acting.StaleForm:
            messages.error(request, acting.stale_form_message())
            return redirect("records:list")

    def done(document) -> HttpResponse:
        if helping:
            messages.success(request, _("The document was added to the record."))
        else:
            messages.success(request, _("The document was added to your record."))
        return redirect("records:document", uid=document.uid)

    return upload_page(
        request,
        record.owner if record is not None else None,
        template="records/upload.html",
        context={"record": record},
        on_success=done,
        acting_for=helping,
    )


@login_required
@never_cache
def pro_upload(request: AuthenticatedRequest, patient_id) -> HttpResponse:
    """A practitioner with consent adds a document; it counts as authored by them.

    Served at /pro/patients/<id>/upload/ among the practitioner's pages (``access:pro-upload``,
    wired by access_control/urls.py), but it is the record's upload form: it lives here, beside
    the patient's own, so that access_control never imports the record's pages."""
    if request.user.kind != "practitioner":
        raise Http404
    patient = User.objects.filter(pk=patient_id, kind="patient").first()

    def done(document) -> HttpResponse:
        messages.success(request, _("The document was added to the patient's record."))
        return redirect("access:pro-record", patient_id=patient_id)

    return upload_page(
        request,
        patient,
        template="records/pro_upload.html",
        context={"patient_id": patient_id},
        on_success=done,
        # Issue 17, item 4: the confidentiality checkbox on a minor's record only.
        form_class=views_confidential.pro_upload_form(request.user, patient),
    )


@login_required
@never_cache
# django-csp types its decorators for views that take the request alone; this one takes a uid.
@csp_update({"frame-src": ["'self'"]})  # type: ignore[arg-type]
def document_page(request: AuthenticatedRequest, uid) -> HttpResponse:
    record = current_record(request)
    try:
        # The access that opened it answers the rest of the page (issue 20, item 2).
        opened = selectors.opened_document(
            request.user,
            uid,
            Action.VIEW,
            client_address=client_address(request),
            owner=record.owner if record is not None and record.acting_for else None,
        )
    except selectors.DocumentNotFound as exc:
        raise Http404 from exc
    document, access = opened.document, opened.access
    facts = document_details.document_facts(request.user, document, access=access)
    helping = record is not None and record.acting_for_document(document.patient_id)
    context = {
        "document": document,
        "facts": facts,
        "record": record,
        # Issue 16: its versions, and its author's controls (records/views_versions.py).
        "versions": document_details.document_versions(
            request.user, document, acting_for=helping, access=access
        ),
        "author_controls": document_details.may_act_as_author(
            request.user, document, access=access
        ),
        # The owner's controls, as the door answers for this reader (issue 17).
        "owner_controls": document_details.owner_controls(
            request.user, document, acting_for=helping, access=access
        ),
        "announcement_days": settings.RECORDS_ANNOUNCEMENT_DAYS,  # a hold postpones by this
        # Issue 17, item 4: kept from a minor's representatives (records/views_confidential.py).
        "confidential": views_confidential.control(request.user, document, access),
    }
    return render(request, "records/document.html", context)


def _content_response(
    request: AuthenticatedRequest, uid, *, as_attachment: bool
) -> StreamingHttpResponse:
    """The file of the document ``uid``: the door's decision and its event committed before the
    first byte (``downloads.file_document``), a refusal answered 404 like a missing document;
    then the file, decrypted and checked chunk by chunk as it is sent."""
    record = current_record(request)
    try:
        document = downloads.file_document(
            request.user,
            uid,
            Action.DOWNLOAD if as_attachment else Action.VIEW,
            client_address=client_address(request),
            inline=not as_attachment,
            owner=record.owner if record is not None and record.acting_for else None,
        )
    except selectors.DocumentNotFound as exc:
        raise Http404 from exc
    response = StreamingHttpResponse(
        selectors.document_content(document), content_type=document.media_type
    )
    disposition = content_disposition_header(as_attachment, selectors.download_name(document))
    if disposition is not None:  # None only for an inline response without a file name
        response["Content-Disposition"] = disposition
    response["Content-Length"] = str(document.size)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@xframe_options_sameorigin
def document_content(request: AuthenticatedRequest, uid) -> StreamingHttpResponse:
    """The file itself, for the inline viewer of the document page (PDF and images only).

    One decision of the door, recorded, whatever the type: a type that is not shown inline is
    refused (``not-shown-inline``) and answered 404 like any refusal; a shown one is recorded as
    part of the page's view (``decisions.INLINE_PREFIX``), so the history lists the page once.
    The file runs sandboxed: no script, no form, no navigation of the page that frames it."""
    response = _content_response(request, uid, as_attachment=False)
    response["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'self'; sandbox"
    return response


@login_required
def document_download(request: AuthenticatedRequest, uid) -> StreamingHttpResponse:
    return _content_response(request, uid, as_attachment=True)


def _post_change(request: AuthenticatedRequest, uid, change):
    """The change's service, a refusal answered 404 (but RecordClosed, which the caller
    answers with ``_closed``). Acting for someone, on a document of the chosen record only."""
    record = current_record(request)
    owner = record.owner if record is not None and record.acting_for else None
    try:
        return change(request.user, uid, client_address=client_address(request), owner=owner)
    except selectors.RecordClosed:
        raise
    except selectors.DocumentNotFound as exc:
        raise Http404 from exc


@login_required
@require_POST
def set_visibility(request: AuthenticatedRequest, uid, hidden: bool) -> HttpResponse:
    """Hide a document from practitioners, or show it again (the URL says which)."""
    try:
        document = _post_change(
            request,
            uid,
            lambda user, uid, **kw: services.set_hidden_from_practitioners(user, uid, hidden, **kw),
        )
    except selectors.RecordClosed:
        return _closed(request)
    # Hidden, it is still seen by its author and the treating physician: the message says who.
    if request.user.kind == "practitioner":  # its author, hiding it from other practitioners
        shown_again = _("Other health professionals the patient allowed can see it again.")
    else:
        shown_again = _("Health professionals you allowed can see this document again.")
    messages.success(
        request,
        (
            document_details.document_facts(request.user, document).seen_by[0]
            if hidden
            else shown_again
        ),
    )
    return redirect("records:document", uid=uid)


@login_required
@require_POST
def delete_document(request: AuthenticatedRequest, uid) -> HttpResponse:
    try:
        _post_change(request, uid, services.delete_document)
    except selectors.RecordClosed:
        return _closed(request)
    messages.success(request, _("The document was removed from your record."))
    return redirect("records:list")
