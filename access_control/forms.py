from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from access_control.directory import MIN_SEARCH_LETTERS, search_words
from access_control.models import CaregiverScope
from accounts.validators import validate_rpps
from dmp_portal.form_widgets import DATE_FORMATS, DATE_INPUT
from enrollment import nir


class RppsForm(forms.Form):
    rpps = forms.CharField(
        label=_("RPPS number of the health professional (11 digits, for example 10003456786)"),
        max_length=20,
        validators=[validate_rpps],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={"required": _("Enter the professional's RPPS number.")},
    )

    def clean_rpps(self) -> str:
        return self.cleaned_data["rpps"].replace(" ", "")


class FindPractitionerForm(forms.Form):
    """The patient's search of the directory (a GET: a practitioner's name is public data)."""

    name = forms.CharField(
        label=_(
            "Last name or first name of the professional, or both (at least 2 letters, for "
            "example Martin or Claire Martin)"
        ),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={
            "required": _("Enter the professional's last name, for example Martin."),
            "max_length": _("Enter at most 100 characters."),
        },
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if len("".join(search_words(name))) < MIN_SEARCH_LETTERS:
            raise ValidationError(
                _("Enter at least 2 letters of the last name, for example Martin."),
                code="too_short",
            )
        return name


class GrantForm(RppsForm):
    until = forms.DateField(
        label=_("Until (DD/MM/YYYY, at most one year; empty: until you revoke it)"),
        required=False,
        input_formats=DATE_FORMATS,
        widget=DATE_INPUT,
        error_messages={"invalid": _("Enter a date as DD/MM/YYYY, for example 12/03/2027.")},
    )


class FindPatientForm(forms.Form):
    nir = forms.CharField(
        label=_(
            "Patient's social security number (15 characters, for example 1 85 05 78 006 084 91)"
        ),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": _("Enter the patient's social security number.")},
    )

    def clean_nir(self) -> str:
        return nir.validate(self.cleaned_data["nir"])


class EmergencyForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the emergency (at least 15 characters; the patient will read it)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=500,
        error_messages={"required": _("Give the reason for the emergency.")},
    )
    otp_token = forms.CharField(
        label=_("Security code from your authenticator app (6 digits), to confirm"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
        error_messages={"required": _("Enter the security code to confirm.")},
    )


class RecordSettingsForm(forms.Form):
    contact_email = forms.EmailField(
        label=_("E-mail address for notifications (optional, for example name@example.fr)"),
        required=False,
        error_messages={"invalid": _("Enter a valid e-mail address, such as name@example.fr.")},
    )
    notify_first_access = forms.BooleanField(
        label=_("Tell me when a professional accesses my record for the first time"), required=False
    )
    notify_emergency = forms.BooleanField(
        label=_("Tell me of any emergency access"), required=False
    )
    notify_request = forms.BooleanField(
        label=_("Tell me when a professional asks for access"), required=False
    )
    notify_new_document = forms.BooleanField(
        label=_("Tell me when a professional adds a document"), required=False
    )
    emergency_opt_out = forms.BooleanField(
        label=_("Refuse emergency access to my record (even if I cannot be asked)"), required=False
    )


class CaregiverInviteForm(forms.Form):
    """The patient invites a caregiver (issue 17): the person's three facts, the scope and the
    last day (at most a year, checked by ``access_control.caregivers.invite``)."""

    identifier = forms.CharField(
        label=_("The person's login identifier (as on their letter, for example jdupont42)"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": _("Enter the person's login identifier.")},
    )
    last_name = forms.CharField(
        label=_("Their last name (birth name, as on their Vitale card)"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": _("Enter the person's last name, for example Dupont.")},
    )
    birth_date = forms.DateField(
        label=_("Their date of birth (DD/MM/YYYY, for example 04/07/1950)"),
        input_formats=DATE_FORMATS,
        widget=DATE_INPUT,
        error_messages={
            "required": _("Enter the person's date of birth as DD/MM/YYYY."),
            "invalid": _("Enter a date as DD/MM/YYYY, for example 04/07/1950."),
        },
    )
    scope = forms.ChoiceField(
        label=_("What they may do"),
        choices=CaregiverScope.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what the caregiver may do.")},
    )
    until = forms.DateField(
        label=_("Until (DD/MM/YYYY, at most one year from today)"),
        input_formats=DATE_FORMATS,
        widget=DATE_INPUT,
        error_messages={
            "required": _("Enter the last day of the access as DD/MM/YYYY."),
            "invalid": _("Enter a date as DD/MM/YYYY, for example 12/03/2027."),
        },
    )
