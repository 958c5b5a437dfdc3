"""The patient's access history page (/access/history/, CONTRACT). Thin: the door decides."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from access_control import history
from access_control.decisions import (
    APPROACH_ACTIONS,
    OWNER_ACTIONS,
    PRACTITIONER_ACTIONS,
    STAFF_REGISTRY_ACTIONS,
)
from accounts.authenticated import AuthenticatedRequest
from accounts.models import UserKind
from audit.models import Action, Mode, Outcome
from dmp_portal.form_widgets import DATE_FORMATS, DATE_INPUT
from dmp_portal.http import client_address

if TYPE_CHECKING:  # django-stubs-ext is a development tool, absent from the deployed image
    from django_stubs_ext import StrOrPromise

CHOICE_ERRORS = {"invalid_choice": _("Choose one of the options of the list.")}
DATE_ERRORS = {"invalid": _("Enter a date as DD/MM/YYYY.")}


# What may happen on a record: the actions the door decides on one, and the patient's logins,
# logouts and ended sessions (recorded on their own chain). Not the others (the record's export
# is not built): a filter on them finds nothing, ever.
ACCOUNT_ACTIONS = {Action.LOGIN_PASSWORD, Action.LOGIN, Action.LOGOUT, Action.END_SESSION}
RECORD_ACTIONS = (
    OWNER_ACTIONS
    | PRACTITIONER_ACTIONS
    | APPROACH_ACTIONS
    | STAFF_REGISTRY_ACTIONS
    | ACCOUNT_ACTIONS
)


def _action_choices() -> Sequence[tuple[str, StrOrPromise]]:
    return [("", _("All actions"))] + [
        (value, label) for value, label in Action.choices if value in RECORD_ACTIONS
    ]


class HistoryFilterForm(forms.Form):
    """GET filters; a bad value is explained and only that filter is ignored."""

    show = forms.ChoiceField(
        label=_("Show"),
        required=False,
        initial=history.OTHERS,
        choices=[
            (history.OTHERS, _("Accesses by others")),
            (history.MINE, _("My actions")),
        ],
        error_messages=CHOICE_ERRORS,
    )
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=_action_choices, error_messages=CHOICE_ERRORS
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        required=False,
        choices=[("", _("All outcomes")), *Outcome.choices],
        error_messages=CHOICE_ERRORS,
    )
    mode = forms.ChoiceField(
        label=_("Mode"),
        required=False,
        choices=[("", _("All modes")), *Mode.choices],
        error_messages=CHOICE_ERRORS,
    )
    who = forms.ChoiceField(
        label=_("Who"),
        required=False,
        choices=[
            ("", _("Everyone")),
            (UserKind.PATIENT.value, _("Another patient")),
            (UserKind.PRACTITIONER.value, _("Health professionals")),
            (UserKind.STAFF.value, _("DMP service")),
        ],
        error_messages=CHOICE_ERRORS,
    )
    date_from = forms.DateField(
        label=_("From (DD/MM/YYYY)"),
        required=False,
        input_formats=DATE_FORMATS,
        widget=DATE_INPUT,
        error_messages=DATE_ERRORS,
    )
    date_to = forms.DateField(
        label=_("To (DD/MM/YYYY)"),
        required=False,
        input_formats=DATE_FORMATS,
        widget=DATE_INPUT,
        error_messages=DATE_ERRORS,
    )

    def clean(self):
        super().clean()
        data = self.cleaned_data  # what clean() returned, typed as never None
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def filters(self) -> history.HistoryFilters:
        """The valid filters only: a field in error is left out, the others still apply."""
        if not self.is_bound:
            return history.HistoryFilters()  # others' accesses: what a patient comes to check
        self.is_valid()  # fills cleaned_data with the fields that are valid
        data = self.cleaned_data
        scope = data.get("show") or history.OTHERS
        return history.HistoryFilters(
            scope=scope,
            action=data.get("action", ""),
            outcome=data.get("outcome", ""),
            mode=data.get("mode", ""),
            # The patient's own actions are all theirs: "who" only sorts others out.
            who="" if scope == history.MINE else data.get("who", ""),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )


@login_required
@never_cache
def access_history(request: AuthenticatedRequest) -> HttpResponse:
    form = HistoryFilterForm(request.GET or None)
    # The page is the signed-in patient's own record; anyone else asks for no record at all.
    patient = request.user if request.user.kind == UserKind.PATIENT else None
    filters = form.filters()
    try:
        page = history.access_history(
            request.user,
            patient,
            filters,
            request.GET.get("page"),
            client_address=client_address(request),
        )
    except history.HistoryNotFound as exc:
        raise Http404 from exc
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "access_control/history.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "mine": filters.scope == history.MINE,
            # An empty page then says "nothing matches" rather than "nothing yet".
            "filtered": filters != history.HistoryFilters(scope=filters.scope),
        },
    )
