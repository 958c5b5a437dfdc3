"""Form widgets and the period fields shared by the apps' forms."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from django import forms
from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:  # django-stubs-ext is a development tool, absent from the deployed image
    from django_stubs_ext import StrOrPromise

# A text field, not <input type="date">: Chromium shows a date field in the browser's language
# (mm/dd/yyyy under an English browser, beside a label that asks for DD/MM/YYYY), and its focus
# ring went missing when reached with Tab (tests/e2e). Fields using it accept both formats.
DATE_INPUT = forms.DateInput(
    format="%d/%m/%Y", attrs={"autocomplete": "off", "spellcheck": "false"}
)
DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]
PERIOD_FIELDS = ("date_from", "date_to")


def _date_field(label: StrOrPromise) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        input_formats=DATE_FORMATS,
        widget=DATE_INPUT,
        error_messages={"invalid": _("Enter a date as DD/MM/YYYY.")},
    )


class PeriodFilterForm(forms.Form):
    """A GET filter form with a period (``date_from``, ``date_to``, both days included), shared
    by the record's list and the access history so that both check it and say it the same way:
    an end before the start is an error on "To" with both dates and the expected order, and a
    period in error is left out whole (``period``), never applied by half."""

    date_from = _date_field(_("From (DD/MM/YYYY)"))
    date_to = _date_field(_("To (DD/MM/YYYY)"))

    def clean(self):
        super().clean()
        data = self.cleaned_data  # what clean() returned, typed as never None
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error(
                "date_to",
                _(
                    "The end date (%(end)s) is before the start date (%(start)s): the end "
                    "date must be the same as or later than the start date."
                )
                % {"end": end.strftime("%d/%m/%Y"), "start": start.strftime("%d/%m/%Y")},
            )
        return data

    def period(self) -> tuple[date | None, date | None]:
        """The period to apply, once validated: none at all while either end is in error (a
        start date alone, beside a wrong end, would give a list the person did not ask for)."""
        if self.period_in_error:
            return None, None
        return self.cleaned_data.get("date_from"), self.cleaned_data.get("date_to")

    @property
    def period_in_error(self) -> bool:
        return any(name in self.errors for name in PERIOD_FIELDS)

    @property
    def only_period_in_error(self) -> bool:
        """The errors are all about the period: the page then asks to correct the period."""
        return bool(self.errors) and set(self.errors) <= set(PERIOD_FIELDS)


# Blank filter forms, drawn once per process (issue 20: cheap pages): drawing a form's fields
# widget by widget costs about as much as a whole bare request, and the form a page opens with
# (no value, no error) is the same for every reader. Bounded, cleared when full.
_BLANK_FORMS: dict[Hashable, SafeString] = {}
_BLANK_FORMS_MAX = 256


def blank_form_html(
    form: forms.Form, template: str, context: Mapping[str, Any], key: Hashable = ()
) -> SafeString:
    """``template`` rendered with ``context`` for ``form``: drawn once per process for each
    language and ``key`` while the form is unbound, and each time once it holds values or
    errors. ``key`` must name everything else the drawing shows (its address, the choices
    offered with their labels), and the drawing nothing of the reader."""
    if form.is_bound:
        return SafeString(render_to_string(template, context))
    full_key = (template, get_language(), key)
    html = _BLANK_FORMS.get(full_key)
    if html is None:
        if len(_BLANK_FORMS) >= _BLANK_FORMS_MAX:
            _BLANK_FORMS.clear()
        html = _BLANK_FORMS[full_key] = SafeString(render_to_string(template, context))
    return html
