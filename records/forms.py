"""Forms of the record pages. Labels state the expected format; errors say how to fix it."""

from __future__ import annotations

from typing import cast

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dmp_portal.form_widgets import DATE_FORMATS, DATE_INPUT, PeriodFilterForm, blank_form_html
from records.models import Category
from records.selectors import RecordFilters

CATEGORY_NOT_OFFERED = _("Choose one of the categories of the list.")


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


class RecordFilterForm(PeriodFilterForm):
    """The search and filters of a record, for its patient and for a practitioner who may read
    it (``reader``: "patient" or "practitioner", who "Added by" speaks to). A value in error is
    explained on its field and left out (a period in error, whole); the page then shows no list
    until it is put right (``errors``). The view offers the categories present among the
    documents the reader may see (``offer_categories``), once the door has answered."""

    field_order = ["q", "category", "author", "date_from", "date_to"]

    q = forms.CharField(label=_("Search in titles"), required=False, max_length=100)
    category = forms.ChoiceField(
        label=_("Category"),
        required=False,
        error_messages={"invalid_choice": CATEGORY_NOT_OFFERED},
    )
    author = forms.ChoiceField(
        label=_("Added by"),
        required=False,
        error_messages={"invalid_choice": _("Choose one of the options of the list.")},
    )

    def __init__(self, *args, reader: str = "patient", **kwargs):
        super().__init__(*args, **kwargs)
        # A bound form's category is checked against every category first; ``offer_categories``
        # narrows the list to those of the record once known (the list is not shown while a
        # filter is in error). Unbound, nothing is checked: the category table is not read
        # (issue 20, item 4: one query less on the page as it first opens).
        cast(forms.ChoiceField, self.fields["category"]).choices = [
            ("", _("All")),
            *(_category_choices() if self.is_bound else ()),
        ]
        self.reader = reader
        self.offered: tuple[tuple[str, str], ...] = ()
        cast(forms.ChoiceField, self.fields["author"]).choices = [
            ("", _("Anyone")),
            ("patient", _("Me") if reader == "patient" else _("The patient")),
            ("practitioner", _("A health professional")),
        ]
        # Whether the reader may see any document at all: without one, no filter is offered.
        self.has_documents = True

    def offer_categories(self, categories: list[Category]) -> None:
        """Offer only these categories (those of the documents the reader may see); a category
        chosen that is not among them (an old link, another profession's) is an error on its
        field, as any value the list does not offer."""
        self.offered = tuple((category.code, str(category.label)) for category in categories)
        cast(forms.ChoiceField, self.fields["category"]).choices = [("", _("All")), *self.offered]
        self.has_documents = bool(categories)
        if not self.is_bound:
            return
        self.is_valid()  # fills cleaned_data with the fields that are valid
        chosen = self.cleaned_data.get("category") or ""
        if chosen and chosen not in {category.code for category in categories}:
            self.add_error("category", CATEGORY_NOT_OFFERED)

    def unbound_html(self, action: str) -> str:
        """``includes/record_filters.html`` for this form when it is unbound (the page as it
        first opens: no value, no error), drawn once per process for each language, reader,
        address and categories offered (their labels included, so a renamed category is never
        served stale); else "" (the template then renders it). Call it after
        ``offer_categories``."""
        if self.is_bound:
            return ""
        context = {"form": self, "action": action}
        key = (self.reader, action, self.offered)
        return blank_form_html(self, "includes/record_filters.html", context, key)

    def filters(self) -> RecordFilters:
        """The valid filters only: a field in error is left out (the period whole), the others
        are kept."""
        if not self.is_bound:
            return RecordFilters()
        self.is_valid()  # fills cleaned_data with the fields that are valid
        data = self.cleaned_data
        date_from, date_to = self.period()
        return RecordFilters(
            query=(data.get("q") or "").strip(),
            category=data.get("category") or "",
            author=data.get("author") or "",
            date_from=date_from,
            date_to=date_to,
        )


class ProUploadForm(UploadForm):
    """A practitioner's upload, with the author's controls (issue 16): each one is recorded
    with the upload and may be changed afterwards on the document's page."""

    hidden_by_author = forms.BooleanField(
        label=_(
            "Hide it from other health professionals (the patient and their treating"
            " physician still see it)"
        ),
        required=False,
    )
    held = forms.BooleanField(
        label=_(
            "Hold it back from the patient until I announce it in a consultation (at most"
            " %(days)d days, then it is shown to the patient)"
        )
        % {"days": settings.RECORDS_ANNOUNCEMENT_DAYS},
        required=False,
    )


class MinorProUploadForm(ProUploadForm):
    """A practitioner's upload to a minor's record (issue 17, item 4; chosen by
    records.views_confidential from the registry's birth date): the author may also keep it
    confidential from the legal representatives. An adult's form has no such field, so that
    a forged one is never read."""

    confidential_from_representatives = forms.BooleanField(
        label=_(
            "Keep it confidential from the legal representatives (confidential care of a minor:"
            " they see neither the document nor any trace of it; the minor sees it)"
        ),
        required=False,
    )


class ReplaceForm(UploadForm):
    """A new version of a document: the same fields and checks as an upload, filled in with the
    current version's title, category and date (the file is to be chosen again)."""

    def __init__(self, *args, document=None, **kwargs):
        if document is not None:
            kwargs.setdefault(
                "initial",
                {
                    "title": document.title,
                    "category": document.category.code,
                    "act_date": document.act_date,
                },
            )
        super().__init__(*args, **kwargs)
