"""Checks of a value (an RPPS number) and of one row of the practitioners CSV.

They sit below the models, which use the RPPS check on their field: nothing here imports a model.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum import luhn

from accounts.professions import Profession


def validate_rpps(value: str) -> None:
    """An RPPS number: 11 digits, the last one a Luhn check digit."""
    if not (isinstance(value, str) and len(value) == 11 and value.isdigit()):
        raise ValidationError(
            _("An RPPS number has exactly 11 digits, for example 10003456786."),
            code="rpps_format",
        )
    if not luhn.is_valid(value):
        raise ValidationError(
            _("This RPPS number is not valid: its last digit (check digit) does not match."),
            code="rpps_checksum",
        )


PRACTITIONER_COLUMNS = ("rpps", "last_name", "first_name", "profession", "specialty", "email")


class PractitionerRowForm(forms.Form):
    rpps = forms.CharField(validators=[validate_rpps])
    last_name = forms.CharField(max_length=100)
    first_name = forms.CharField(max_length=100)
    profession = forms.CharField()
    specialty = forms.CharField(max_length=100, required=False)
    # Optional column: a file without it leaves the city known before unchanged.
    city = forms.CharField(max_length=100, required=False)
    email = forms.EmailField(
        error_messages={"invalid": _("Enter a valid e-mail address, such as name@example.fr.")}
    )

    def clean_profession(self) -> str:
        value = self.cleaned_data["profession"].strip().lower()
        if value not in Profession.values:
            raise ValidationError(
                _("Unknown profession “%(value)s”; expected one of: %(choices)s."),
                params={"value": value, "choices": ", ".join(Profession.values)},
                code="unknown_profession",
            )
        return value

    def reason(self) -> str:
        return "; ".join(
            f"{name}: {' '.join(str(e) for e in errors)}" for name, errors in self.errors.items()
        )
