"""Forms of the enrolment pages. Labels state the expected format; errors say how to fix it."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from enrollment import codes, nir

NIR_WIDGET = forms.TextInput(
    attrs={
        "autocomplete": "off",
        "spellcheck": "false",
        "autocapitalize": "characters",
        "inputmode": "text",
    }
)


class EnrollmentForm(forms.Form):
    nir = forms.CharField(
        label=_("Social security number (15 characters, for example 1 85 05 78 006 084 91)"),
        max_length=32,
        widget=NIR_WIDGET,
        error_messages={"required": _("Enter your social security number.")},
    )
    nir_confirmation = forms.CharField(
        label=_("Type your social security number again"),
        max_length=32,
        widget=NIR_WIDGET,
        error_messages={"required": _("Type your social security number a second time.")},
    )

    def clean_nir(self) -> str:
        return nir.validate(self.cleaned_data["nir"])

    def clean(self):
        super().clean()
        data = self.cleaned_data  # what clean() returned, typed as never None
        if (
            "nir" in data
            and "nir_confirmation" in data
            and (nir.normalise(data["nir_confirmation"]) != data["nir"])
        ):
            self.add_error(
                "nir_confirmation",
                ValidationError(
                    _(
                        "The two entries differ: type the same number twice, as on your "
                        "Vitale card."
                    ),
                    code="nir_mismatch",
                ),
            )
        return data


class ActivationCodeForm(forms.Form):
    # One form for a creation and a reactivation letter: its words name neither, so that the
    # holder of a reactivation letter is not told about a creation code (the field's name,
    # ``creation_code``, is the contract's).
    nir = forms.CharField(
        label=_("Social security number (15 characters, for example 1 85 05 78 006 084 91)"),
        max_length=32,
        widget=NIR_WIDGET,
        error_messages={"required": _("Enter your social security number.")},
    )
    creation_code = forms.CharField(
        label=_("Code from the letter (12 characters, as XXXX-XXXX-XXXX)"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}
        ),
        error_messages={"required": _("Enter the code printed in the letter.")},
    )

    def clean_nir(self) -> str:
        return nir.validate(self.cleaned_data["nir"])

    def clean_creation_code(self) -> str:
        code = codes.normalise(self.cleaned_data["creation_code"])
        if not codes.is_well_formed(code):
            raise ValidationError(
                _(
                    "The code has 12 letters and digits, printed as XXXX-XXXX-XXXX (for "
                    "example 7K2Q-D9XW-4MHN); you typed %(count)d."
                ),
                params={"count": len(code)},
                code="code_format",
            )
        return code
