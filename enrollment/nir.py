"""The NIR (social security number): normalising, validating with French messages, showing."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from stdnum.fr import nir as stdnum_nir

EXAMPLE = "1 85 05 78 006 084 91"


def normalise(value: str) -> str:
    """Upper case, without the spaces, dots and dashes people type between groups."""
    return re.sub(r"[\s.\-]", "", value or "").upper()


def validate(value: str) -> str:
    """The normalised NIR, or a ValidationError that says what to fix, with an example."""
    number = normalise(value)
    if len(number) != 15:
        raise ValidationError(
            _(
                "A social security number has 15 characters (13 digits and a 2-digit key); you "
                "typed %(count)d. Example: %(example)s."
            ),
            params={"count": len(number), "example": EXAMPLE},
            code="nir_length",
        )
    try:
        return stdnum_nir.validate(number)
    except InvalidChecksum as exc:
        raise ValidationError(
            _(
                "The key (the last 2 digits) does not match the number: check it against your "
                "Vitale card. Example: %(example)s."
            ),
            params={"example": EXAMPLE},
            code="nir_checksum",
        ) from exc
    except (InvalidFormat, InvalidComponent, InvalidLength) as exc:
        raise ValidationError(
            _(
                "A social security number has only digits, except 2A or 2B for people born in "
                "Corsica. Example: %(example)s."
            ),
            params={"example": EXAMPLE},
            code="nir_format",
        ) from exc


def grouped(number: str) -> str:
    """The French way of writing it: 1 85 05 78 006 084 91."""
    return stdnum_nir.format(number)


def masked(number: str) -> str:
    """For lists: sex and year of birth only, the rest hidden."""
    if len(number) != 15:
        return "•" * 5
    return f"{number[0]} {number[1:3]} •• •• ••• ••• ••"
