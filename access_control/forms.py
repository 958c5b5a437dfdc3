from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.validators import validate_rpps
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


class GrantForm(RppsForm):
    until = forms.DateField(
        label=_("Until (DD/MM/YYYY, at most one year; empty: until you revoke it)"),
        required=False,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
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
