from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum import luhn


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
