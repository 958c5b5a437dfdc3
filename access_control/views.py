"""Thin views: the patient's consents (/access/) and the practitioner's workspace (/pro/)."""

from __future__ import annotations

import uuid
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from access_control import acting, directory, selectors, services
from access_control.forms import (
    EmergencyForm,
    FindPatientForm,
    FindPractitionerForm,
    GrantForm,
    RecordSettingsForm,
    RppsForm,
)
from access_control.models import RecordSettings
from accounts.authenticated import AuthenticatedRequest
from accounts.http import known_browser_markers
from accounts.models import User
from accounts.selectors import pending_contact_email, verified_email
from accounts.services.authentication import is_known_browser
from accounts.services.contact_email import ContactEmailOutcome
from dmp_portal.http import client_address
from records import selectors as record_selectors
from records.forms import RecordFilterForm


def _patient(request: AuthenticatedRequest):
    if request.user.kind != "patient":
        raise Http404
    return request.user


def _consents_record(request: AuthenticatedRequest):
    """The record the consents page decides on (issue 17, item 3): one's own, or the one chosen
    with the switch when the door lets this helper manage its consents (a caregiver with
    ``manage``, a legal representative); a read-only caregiver's page stays their own. Returns
    what the services take (the patient, or ``OnBehalf``), the record's owner and the tie."""
    patient = _patient(request)
    now = acting.current(patient, request.session)
    if now.ended:
        messages.warning(request, acting.ended_message())
    manages = now.tie is not None and now.tie.consents
    if request.method == "POST":  # a form drawn for another record: StaleForm
        acting.check_form(now, request.POST, follows=manages)
    if manages:
        return services.OnBehalf(patient, now.owner), now.owner, now.tie
    return patient, patient, None


def _refuses_stale_forms(view):
    """A consents form drawn for another record than the one the switch gives now changes
    nothing: the page says so (``acting.check_form``)."""

    @wraps(view)
    def wrapped(request: AuthenticatedRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except acting.StaleForm:
            messages.error(request, acting.stale_form_message())
            return redirect("access:overview")

    return wrapped


def _practitioner(request: AuthenticatedRequest):
    if request.user.kind != "practitioner":
        raise Http404
    return request.user


def _overview(request, patient, tie=None, **forms) -> HttpResponse:
    # The search runs only when asked (the "name" parameter is there, even empty).
    search_form = FindPractitionerForm(request.GET if "name" in request.GET else None)
    found = None
    if search_form.is_valid():
        found = directory.find_practitioners(search_form.cleaned_data["name"], patient)
    if tie is None:
        overview = selectors.access_overview(patient)
    else:
        try:
            overview = selectors.consents_overview_for(
                request.user, patient, client_address=client_address(request)
            )
        except selectors.ConsentsNotFound as exc:
            raise Http404 from exc
    context = {
        "overview": overview,
        # Each practitioner named as the directory's search names them (two Martins apart).
        "readers": directory.named(overview.readers),
        "requests": directory.named(overview.requests),
        "blocks": directory.named(overview.blocks),
        "emergencies": directory.named(overview.emergencies),
        "physician": (
            directory.entry_of(overview.treating_physician.physician.practitioner_profile)
            if overview.treating_physician is not None
            else None
        ),
        "grant_form": GrantForm(),
        "block_form": RppsForm(prefix="block"),
        "physician_form": RppsForm(prefix="md"),
        "search_form": search_form,
        "found": found,
        # Acting for someone (issue 17): whose record, and what the door lets this helper do.
        "tie": tie,
    }
    context.update(forms)
    return render(request, "access_control/overview.html", context)


@login_required
@never_cache
@_refuses_stale_forms
def overview(request: AuthenticatedRequest) -> HttpResponse:
    """The patient's consents; POST grants access to the practitioner of field ``rpps``."""
    record, patient, tie = _consents_record(request)
    if request.method != "POST":
        return _overview(request, patient, tie)
    form = GrantForm(request.POST)
    if form.is_valid():
        try:
            services.grant_consent(
                record,
                form.cleaned_data["rpps"],
                form.cleaned_data["until"],
                client_address=client_address(request),
            )
        except services.AccessError as error:
            form.add_error(error.field or "rpps", error.message)
        else:
            messages.success(request, _("Access granted."))
            return redirect("access:overview")
    return _overview(request, patient, tie, grant_form=form)


def _patient_action(request: AuthenticatedRequest, action, success: str) -> HttpResponse:
    record, _patient_of_record, _tie = _consents_record(request)
    try:
        action(record)
    except services.AccessError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success)
    return redirect("access:overview")


@login_required
@require_POST
@_refuses_stale_forms
def revoke(request: AuthenticatedRequest, consent_id: int) -> HttpResponse:
    return _patient_action(
        request,
        lambda p: services.revoke_consent(p, consent_id, client_address=client_address(request)),
        _("Access revoked."),
    )


def _rpps_action(
    request: AuthenticatedRequest, prefix: str, form_name: str, action, success: str
) -> HttpResponse:
    """A POSTed RPPS number (form ``prefix``) for ``action(patient, rpps)``; a bad number or a
    refusal comes back on the page, in French, with nothing changed."""
    record, patient, tie = _consents_record(request)
    form = RppsForm(request.POST, prefix=prefix)
    if form.is_valid():
        try:
            action(record, form.cleaned_data["rpps"], client_address=client_address(request))
        except services.AccessError as error:
            form.add_error("rpps", error.message)
        else:
            messages.success(request, success)
            return redirect("access:overview")
    return _overview(request, patient, tie, **{form_name: form})


@login_required
@require_POST
@_refuses_stale_forms
def block(request: AuthenticatedRequest) -> HttpResponse:
    return _rpps_action(
        request,
        "block",
        "block_form",
        services.block_practitioner,
        _("This professional is blocked."),
    )


@login_required
@require_POST
@_refuses_stale_forms
def lift_block(request: AuthenticatedRequest, block_id: int) -> HttpResponse:
    return _patient_action(
        request,
        lambda p: services.lift_block(p, block_id, client_address=client_address(request)),
        _("Block lifted."),
    )


@login_required
@require_POST
@_refuses_stale_forms
def treating_physician(request: AuthenticatedRequest) -> HttpResponse:
    return _rpps_action(
        request,
        "md",
        "physician_form",
        services.designate_treating_physician,
        _("Treating physician designated."),
    )


@login_required
@require_POST
@_refuses_stale_forms
def remove_treating_physician(request: AuthenticatedRequest) -> HttpResponse:
    return _patient_action(
        request,
        lambda p: services.remove_treating_physician(p, client_address=client_address(request)),
        _("Treating physician removed."),
    )


@login_required
@require_POST
@_refuses_stale_forms
def answer_request(request: AuthenticatedRequest, request_id: int, accept: bool) -> HttpResponse:
    return _patient_action(
        request,
        lambda p: services.answer_request(
            p, request_id, accept, client_address=client_address(request)
        ),
        _("Access granted.") if accept else _("Request declined."),
    )


# The look-ups of this session: an opaque token per look-up, mapped to the blind index of the
# NIR typed. The request and emergency addresses carry the token, never a record's id, so that
# they are the same whether or not the NIR has a record.
LOOKUPS_SESSION_KEY = "pro_lookups"
REMEMBERED_LOOKUPS = 20


def _remember_lookup(request: AuthenticatedRequest, nir_index: str) -> str:
    token = str(uuid.uuid4())
    lookups = dict(request.session.get(LOOKUPS_SESSION_KEY, {}))
    lookups[token] = nir_index
    request.session[LOOKUPS_SESSION_KEY] = dict(list(lookups.items())[-REMEMBERED_LOOKUPS:])
    return token


def _looked_up(request: AuthenticatedRequest, token) -> str:
    """The blind index behind a look-up token; "" for a token this session never received
    (the service then finds no record, and answers as for any record it may not open)."""
    return request.session.get(LOOKUPS_SESSION_KEY, {}).get(str(token), "")


def _too_many_lookups(seconds: int) -> str:
    minutes = max(1, (seconds + 59) // 60)
    return ngettext(
        "Too many look-ups in a short time. To protect patients, try again in %(minutes)d minute.",
        "Too many look-ups in a short time. To protect patients, try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def _too_many_requests(seconds: int) -> str:
    minutes = max(1, (seconds + 59) // 60)
    return ngettext(
        "Too many access requests in a short time. To protect patients, try again in "
        "%(minutes)d minute.",
        "Too many access requests in a short time. To protect patients, try again in "
        "%(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


@login_required
@never_cache
def pro_search(request: AuthenticatedRequest) -> HttpResponse:
    """Find a patient by NIR (a POST: the number never travels in a URL)."""
    practitioner = _practitioner(request)
    form = FindPatientForm(request.POST or None)
    result = token = None
    if request.method == "POST" and form.is_valid():
        result = selectors.find_patient(
            practitioner, form.cleaned_data["nir"], client_address=client_address(request)
        )
        if result.throttled:
            form.add_error("nir", _too_many_lookups(result.throttled))
            result = None
        else:
            token = _remember_lookup(request, result.nir_index)
    return render(
        request,
        "access_control/pro_search.html",
        {"form": form, "result": result, "lookup": token},
    )


@login_required
@never_cache
def pro_record(request: AuthenticatedRequest, patient_id) -> HttpResponse:
    """The record as this practitioner may list it, with the patient's search and filters
    (they narrow the door's list filter, never widen it)."""
    practitioner = _practitioner(request)
    patient = User.objects.filter(pk=patient_id, kind="patient").first()
    form = RecordFilterForm(request.GET or None, reader="practitioner")
    filters = form.filters()
    try:
        record = selectors.practitioner_record(
            practitioner,
            patient,
            request.GET.get("page"),
            filters,
            client_address=client_address(request),
        )
    except record_selectors.DocumentNotFound as exc:
        raise Http404 from exc
    form.offer_categories(record.categories)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "access_control/pro_record.html",
        {
            "form": form,
            "filtered": filters.narrowed,
            "page": record.page,
            "patient_id": patient_id,
            "query": query.urlencode(),
            "identity": record.identity,
            "may_upload": record.may_upload,
        },
    )


@login_required
@require_POST
def pro_request(request: AuthenticatedRequest, patient_id) -> HttpResponse:
    """Ask for access to the patient of one look-up (``patient_id`` is the look-up's token)."""
    practitioner = _practitioner(request)
    waiting = services.request_access(
        practitioner, _looked_up(request, patient_id), client_address=client_address(request)
    )
    # The same answer whether or not a record exists, or the request was refused; throttled,
    # the same refusal whatever the NIR.
    if waiting:
        messages.error(request, _too_many_requests(waiting))
    else:
        messages.success(request, _("Your request was sent to the patient."))
    return redirect("access:pro-search")


@login_required
@never_cache
def record_settings(request: AuthenticatedRequest) -> HttpResponse:
    patient = _patient(request)
    current = RecordSettings.objects.filter(patient=patient).first()
    initial: dict[str, object] = {
        "notify_first_access": True,
        "notify_emergency": True,
        "notify_request": True,
        "notify_new_document": True,
    }
    if current is not None:
        initial = {
            name: getattr(current, name)
            for name in RecordSettingsForm.base_fields
            if name != "contact_email"
        }
    # The field shows the address waiting for its confirmation, else the confirmed one.
    confirmed = verified_email(patient)
    pending = pending_contact_email(patient)
    initial["contact_email"] = str(pending.address) if pending is not None else confirmed or ""
    form = RecordSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            outcome = services.update_record_settings(
                patient,
                emergency_opt_out=data["emergency_opt_out"],
                contact_email=data["contact_email"],
                notify={name: data[name] for name in data if name.startswith("notify_")},
                client_address=client_address(request),
            )
        except services.AccessError as error:
            form.add_error(error.field or None, error.message)
        else:
            messages.success(request, _("Your settings are saved."))
            if outcome == ContactEmailOutcome.SENT:
                messages.info(
                    request,
                    _(
                        "A confirmation link was sent to the new address. Nothing else is sent"
                        " to it until you open that link."
                    ),
                )
            return redirect("access:settings")
    return render(
        request,
        "access_control/settings.html",
        {"form": form, "confirmed_email": confirmed, "pending_email": pending},
    )


@login_required
@never_cache
def pro_emergency(request: AuthenticatedRequest, patient_id) -> HttpResponse:
    """Declare an emergency for the patient of one look-up (``patient_id`` is its token): the
    same page, and the same refusal, whether or not the NIR has a record."""
    practitioner = _practitioner(request)
    form = EmergencyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            access = services.declare_emergency(
                practitioner,
                _looked_up(request, patient_id),
                form.cleaned_data["reason"],
                form.cleaned_data["otp_token"],
                client_address=client_address(request),
                known_browser=is_known_browser(known_browser_markers(request), practitioner),
            )
        except services.AccessError as error:
            form.add_error(None, error.message)
        else:
            return redirect("access:pro-record", patient_id=access.patient_id)
    return render(
        request,
        "access_control/pro_emergency.html",
        {"form": form, "patient_id": patient_id, "minutes": settings.EMERGENCY_ACCESS_MINUTES},
    )
