"""Forms of the record pages. Labels state the expected format; errors say how to fix it."""

from __future__ import annotations

from typing import cast

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dmp_portal.form_widgets import DATE_FORMATS, DATE_INPUT
from records.models import Category
from records.selectors import RecordFilters


def _category_choices() -> list[tuple[str, str]]:
    return [(category.code, category.label) for category in Category.objects.all()]


class UploadForm(forms.Form):
    title = forms.CharField(
        label=_("Title (for example: Blood test of 12 March)"),
        max_length=200,
        error_messages={"required": _("Give the document a title.")},
    )
    category = forms.ChoiceField(
        label=_("Category"),
        error_messages={
            "required": _("Choose a category."),
            "invalid_choice": _("Choose one of the categories of the list."),
        },
    )
    act_date = forms.DateField(
        label=_("Date of the act (DD/MM/YYYY; today if empty)"),
        required=False,
        input_formats=DATE_FORMATS,
        widget=DATE_INPUT,
        error_messages={"invalid": _("Enter a date as DD/MM/YYYY, for example 12/03/2026.")},
    )
    file = forms.FileField(
        label=_("File (PDF, JPEG, PNG, TIFF, text, RTF or HL7 CDA; at most %(mb)d MB)")
        % {"mb": settings.RECORDS_MAX_UPLOAD_BYTES // (1024 * 1024)},
        error_messages={
            "required": _("Choose the file to add."),
            "empty": _("This file is empty."),
        },
    )

    def __init__(self, *args, cut_off: bool = False, **kwargs):
        """``cut_off``: the file was refused for its size while it was being received
        (records/uploads.py), so the request holds none; the other fields are kept."""
        super().__init__(*args, **kwargs)
        # The field declared above is a ChoiceField; ``fields`` types its entries as plain Fields.
        cast(forms.ChoiceField, self.fields["category"]).choices = [("", "—"), *_category_choices()]
        self.cut_off = cut_off
        if cut_off:
            self.fields["file"].required = False  # the size, not a missing file, is the reason

    def clean_file(self):
        if self.cut_off:
            too_large = _("This file is larger than the maximum size of %(limit)s MB.") % {
                "limit": settings.RECORDS_MAX_UPLOAD_BYTES // (1024 * 1024)
            }
            what_to_do = _(
                "It was not saved. Reduce it (for example by scanning it in black and white or "
                "at a lower resolution) or split it, then choose it again."
            )
            raise forms.ValidationError(f"{too_large} {what_to_do}")
        return self.cleaned_data["file"]

    def clean_act_date(self):
        value = self.cleaned_data.get("act_date") or timezone.localdate()
        if value > timezone.localdate():
            raise forms.ValidationError(_("The date of the act cannot be in the future."))
        return value


class RecordFilterForm(forms.Form):
    """The search and filters of a record, for its patient and for a practitioner who may read
    it (``reader``: "patient" or "practitioner", who "Added by" speaks to). A value in error is
    explained on its field and left out; the other filters still apply."""

    q = forms.CharField(label=_("Search in titles"), required=False, max_length=100)
    category = forms.ChoiceField(
        label=_("Category"),
        required=False,
        error_messages={"invalid_choice": _("Choose one of the categories of the list.")},
    )
    author = forms.ChoiceField(
        label=_("Added by"),
        required=False,
        error_messages={"invalid_choice": _("Choose one of the options of the list.")},
    )
    date_from = forms.DateField(
        label=_("From (DD/MM/YYYY)"),
        required=False,
        input_formats=DATE_FORMATS,
        widget=DATE_INPUT,
        error_messages={"invalid": _("Enter a date as DD/MM/YYYY.")},
    )
    date_to = forms.DateField(
        label=_("To (DD/MM/YYYY)"),
        required=False,
        input_formats=DATE_FORMATS,
        widget=DATE_INPUT,
        error_messages={"invalid": _("Enter a date as DD/MM/YYYY.")},
    )

    def __init__(self, *args, reader: str = "patient", **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["category"]).choices = [
            ("", _("All")),
            *_category_choices(),
        ]
        cast(forms.ChoiceField, self.fields["author"]).choices = [
            ("", _("Anyone")),
            ("patient", _("Me") if reader == "patient" else _("The patient")),
            ("practitioner", _("A health professional")),
        ]

    def offer_categories(self, categories: list[Category]) -> None:
        """Offer only these categories (those the reader may see documents of), once the
        filters are read: a category chosen before still shows as chosen."""
        cast(forms.ChoiceField, self.fields["category"]).choices = [
            ("", _("All")),
            *((category.code, category.label) for category in categories),
        ]

    def clean(self):
        super().clean()
        data = self.cleaned_data
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            # An error, not an empty list: the end date is left out (the start date still
            # applies, as on the history page) until it is put right.
            self.add_error(
                "date_to",
                _(
                    "The end date (%(end)s) is before the start date (%(start)s): the end "
                    "date must be the same as or later than the start date."
                )
                % {"end": end.strftime("%d/%m/%Y"), "start": start.strftime("%d/%m/%Y")},
            )
        return data

    def filters(self) -> RecordFilters:
        """The valid filters only: a field in error is left out, the others still apply."""
        if not self.is_bound:
            return RecordFilters()
        self.is_valid()  # fills cleaned_data with the fields that are valid
        data = self.cleaned_data
        return RecordFilters(
            query=(data.get("q") or "").strip(),
            category=data.get("category") or "",
            author=data.get("author") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )
