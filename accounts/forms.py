"""Forms of the accounts pages. Labels state the expected format; errors say how to fix them."""

from django import forms
from django.contrib.auth.forms import SetPasswordForm
from django.utils.translation import gettext_lazy as _

from accounts.models import UserKind


class PasswordStepForm(forms.Form):
    username = forms.CharField(
        label=_("Login identifier"),
        max_length=64,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        ),
        error_messages={"required": _("Enter your login identifier.")},
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=1024,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Enter your password.")},
    )


class SecondFactorForm(forms.Form):
    otp_token = forms.CharField(
        label=_("Security code (6 digits from your app, or a backup code such as 7K2QD-9XW4M)"),
        max_length=16,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "text",
                "autocapitalize": "characters",
                "spellcheck": "false",
            }
        ),
        error_messages={"required": _("Enter the security code.")},
    )


class TOTPConfirmForm(forms.Form):
    otp_token = forms.CharField(
        label=_("Code shown by your app (6 digits)"),
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*"}
        ),
        error_messages={"required": _("Enter the 6-digit code shown by your app.")},
    )


class FirstPasswordForm(SetPasswordForm):
    """Django's SetPasswordForm (fields new_password1, new_password2) with our wording.

    The rules are said once, as the help of the first field, in words for this person (a
    practitioner has no NIR here); the first field, where the password is chosen, carries what
    is wrong with it, and the second only a mismatch (Django puts both on the second)."""

    def __init__(self, user, *args, **kwargs):
        super().__init__(user, *args, **kwargs)
        password = self.fields["new_password1"]
        password.label = _("New password")
        password.help_text = (
            _(
                "A long phrase is easier to remember and harder to guess: at least 12"
                " characters, no need for symbols. Not your name or your RPPS number."
            )
            if user.kind == UserKind.PRACTITIONER
            else _(
                "A long phrase is easier to remember and harder to guess: at least 12"
                " characters, no need for symbols. Not your name, your social security number"
                " or your date of birth."
            )
        )
        self.fields["new_password2"].label = _("Type the new password again")
        self.fields["new_password2"].help_text = ""

    def clean(self):
        self.validate_passwords("new_password1", "new_password2")
        self.validate_password_for_user(self.user, "new_password1")
        return forms.Form.clean(self)


class PasskeyNameForm(forms.Form):
    """The name of a new passkey and, unless the session was opened with a passkey, the second
    factor again; the key itself comes from the browser (static/js/passkeys.js)."""

    name = forms.CharField(
        label=_('Name of this passkey (for example "Phone" or "Blue security key")'),
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    otp_token = SecondFactorForm.base_fields["otp_token"]
    # A staff member's first passkey: the one-time code given by an operator.
    enrolment_code = forms.CharField(
        label=_("Passkey enrolment code given to you (12 characters, in the form XXXX-XXXX-XXXX)"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )

    def __init__(self, *args, ask_code: bool = True, ask_enrolment_code: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not ask_code:
            del self.fields["otp_token"]
        if not ask_enrolment_code:
            del self.fields["enrolment_code"]


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(
        label=_("Your confirmed contact e-mail address (for example name@example.fr)"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
        error_messages={
            "required": _("Enter your e-mail address."),
            "invalid": _("Enter a valid e-mail address, such as name@example.fr."),
        },
    )


class PasswordChangeForm(FirstPasswordForm):
    """The current password, the new one twice, and a fresh second factor. The current
    password and the code are checked by the service (throttled), not here."""

    old_password = forms.CharField(
        label=_("Current password"),
        strip=False,
        max_length=1024,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Enter your current password.")},
    )
    otp_token = SecondFactorForm.base_fields["otp_token"]

    field_order = ["old_password", "new_password1", "new_password2", "otp_token"]

    def __init__(self, user, *args, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.order_fields(self.field_order)
