"""The patient's access history page (/access/history/, CONTRACT). Thin: the door decides."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from access_control import acting, history
from access_control.history_table import table_rows
from accounts.authenticated import AuthenticatedRequest
from accounts.models import UserKind
from audit.models import Action, Mode, Outcome
from dmp_portal.form_widgets import PeriodFilterForm, blank_form_html
from dmp_portal.http import client_address

if TYPE_CHECKING:  # django-stubs-ext is a development tool, absent from the deployed image
    from django_stubs_ext import StrOrPromise

CHOICE_ERRORS = {"invalid_choice": _("Choose one of the options of the list.")}
# An action the view does not offer: it never happens there (or is no action at all).
ACTION_NOT_OFFERED = {
    history.MINE: _("You never do this action on your record: choose one of the list."),
    history.OTHERS: _(
        "This action is never done by someone else on your record: choose one of the list."
    ),
}


def _choices(
    everything: type[Action] | type[Mode], offered: frozenset, all_label: StrOrPromise
) -> Sequence[tuple[str, StrOrPromise]]:
    return [("", all_label)] + [
        (value, label) for value, label in everything.choices if value in offered
    ]


class HistoryFilterForm(PeriodFilterForm):
    """GET filters of one view (``show``): only the actions and modes that happen in it are
    offered; a value in error is explained on its field and left out (a period in error,
    whole), and the page shows no list until it is put right."""

    field_order = ["show", "who", "action", "outcome", "mode", "date_from", "date_to"]

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
    action = forms.ChoiceField(label=_("Action"), required=False)
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        required=False,
        choices=[("", _("All outcomes")), *Outcome.choices],
        error_messages=CHOICE_ERRORS,
    )
    mode = forms.ChoiceField(label=_("Mode"), required=False, error_messages=CHOICE_ERRORS)
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The view asked for, read before validation: it decides what the other filters offer
        # (an unknown one is the default view, and an error on its field).
        asked = self.data.get("show") if self.is_bound else None
        self.scope = asked if asked in history.ACTIONS_OF else history.OTHERS
        action = cast(forms.ChoiceField, self.fields["action"])
        action.choices = _choices(Action, history.ACTIONS_OF[self.scope], _("All actions"))
        action.error_messages["invalid_choice"] = ACTION_NOT_OFFERED[self.scope]
        modes = history.MODES_OF[self.scope]
        if len(modes) > 1:
            mode = cast(forms.ChoiceField, self.fields["mode"])
            mode.choices = _choices(Mode, modes, _("All modes"))
        else:
            del self.fields["mode"]  # one mode only: nothing to choose
        if self.scope == history.MINE:
            del self.fields["who"]  # the patient's own actions are all theirs

    @property
    def mine(self) -> bool:
        return self.scope == history.MINE

    def filters(self) -> history.HistoryFilters:
        """The valid filters only: a field in error is left out (the period whole)."""
        if not self.is_bound:
            return history.HistoryFilters()  # others' accesses: what a patient comes to check
        self.is_valid()  # fills cleaned_data with the fields that are valid
        data = self.cleaned_data
        date_from, date_to = self.period()
        return history.HistoryFilters(
            scope=self.scope,
            action=data.get("action", ""),
            outcome=data.get("outcome", ""),
            mode=data.get("mode", ""),
            who=data.get("who", ""),
            date_from=date_from,
            date_to=date_to,
        )


# The filters' HTML (issue 20: cheap pages): the blank form a page opens with (the default
# view) is drawn once per language, its choices being the trail's fixed actions, outcomes and
# modes; a form with values (``show=mine``, a filter, an error) is drawn each time.
FILTERS_TEMPLATE = "access_control/includes/history_filters.html"


def filter_fields(form: HistoryFilterForm) -> SafeString:
    return blank_form_html(form, FILTERS_TEMPLATE, {"form": form, "mine": form.mine})


@login_required
@never_cache
def access_history(request: AuthenticatedRequest) -> HttpResponse:
    form = HistoryFilterForm(request.GET or None)
    # The page is the signed-in patient's own record, or the one they chose with the switch
    # (issue 17: the door asked again on this request); anyone else asks for no record at all.
    record = None
    if request.user.kind == UserKind.PATIENT:
        record = acting.current(request.user, request.session)
        if record.ended:
            messages.warning(request, acting.ended_message())
    filters = form.filters()
    try:
        page = history.access_history(
            request.user,
            record.owner if record is not None else None,
            filters,
            request.GET.get("page"),
            client_address=client_address(request),
            acting_for=record is not None and record.acting_for,
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
            "filter_fields": filter_fields(form),
            "page": page,
            "query": query.urlencode(),
            "mine": form.mine,
            # The table's lines, written once in Python (issue 20: cheap pages).
            "table_rows": table_rows(page.object_list, mine=form.mine),
            "record": record,
            # An empty page then says "nothing matches" rather than "nothing yet".
            "filtered": filters != history.HistoryFilters(scope=filters.scope),
        },
    )
