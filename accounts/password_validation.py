"""Password rules after ANSSI/CNIL and OWASP ASVS 5: length, not common, not personal.

No composition rules (they push people to predictable patterns); Django's own validators cover
the minimum length and its list of 20,000 common passwords; these add the maximum length, a list
of passwords common in France and the user's own data.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

FRENCH_COMMON_PASSWORDS = Path(__file__).parent / "data" / "common_passwords_fr.txt"


class Person(Protocol):
    """What these validators read of the user (``accounts.users.User`` has it). They sit below
    the models (Django loads them from settings), so they name it instead of importing it."""

    kind: str

    def personal_data_for_password_check(self) -> list[str]: ...


def _fold(value: str) -> str:
    """Lower case, no accents, letters and digits only: 'Jean-Émile' -> 'jeanemile'."""
    decomposed = unicodedata.normalize("NFKD", value)
    return re.sub(
        r"[^a-z0-9]", "", "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    )


class MaximumLengthValidator:
    def __init__(self, max_length: int = 128) -> None:
        self.max_length = max_length

    def validate(self, password: str, user: Person | None = None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                ngettext(
                    "This password is too long: at most %(max)d character.",
                    "This password is too long: at most %(max)d characters.",
                    self.max_length,
                )
                % {"max": self.max_length},
                code="password_too_long",
            )

    def get_help_text(self) -> str:
        return _("At most %(max)d characters.") % {"max": self.max_length}


class FrenchCommonPasswordValidator:
    @staticmethod
    @lru_cache(maxsize=1)
    def passwords() -> frozenset[str]:
        lines = FRENCH_COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
        return frozenset(_fold(line) for line in lines if line and not line.startswith("#"))

    def validate(self, password: str, user: Person | None = None) -> None:
        if _fold(password) in self.passwords():
            raise ValidationError(
                _("This password is too common: choose a phrase nobody would guess."),
                code="password_too_common",
            )

    def get_help_text(self) -> str:
        return _("Not a commonly used password.")


class PersonalDataValidator:
    """Refuses a password that contains the user's names, identifiers, NIR or birth date.

    Services that know more about the person (the NIR and birth date at enrolment) attach them
    to the unsaved user as ``_password_personal_data`` before validating.
    """

    MIN_PART = 3

    def validate(self, password: str, user: Person | None = None) -> None:
        if user is None:
            return
        folded_password = _fold(password)
        for value in self._variants(user.personal_data_for_password_check()):
            if len(value) >= self.MIN_PART and value in folded_password:
                raise ValidationError(
                    # A practitioner's password is never checked against a NIR: not named.
                    _("This password contains your name or your identifier: choose another one.")
                    if user.kind == "practitioner"
                    else _(
                        "This password contains your name, your identifier, your social "
                        "security number or your date of birth: choose another one."
                    ),
                    code="password_personal_data",
                )

    @staticmethod
    def _variants(values: list[str]) -> set[str]:
        variants: set[str] = set()
        for value in values:
            folded = _fold(value)
            variants.add(folded)
            # Compound names: each part counts ("Jean-Pierre" -> "jean", "pierre").
            variants.update(_fold(part) for part in re.split(r"[\s'\-]+", value))
            match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", value.strip())
            if match:  # a birth date in the ways people write it
                year, month, day = match.groups()
                variants.update(
                    {
                        day + month + year,
                        year + month + day,
                        day + month + year[2:],
                        year[2:] + month + day,
                        month + day + year,
                    }
                )
            if re.fullmatch(r"[0-9ab]{13}(\d{2})?", folded):  # NIR: without its key too
                variants.add(folded[:13])
        return variants

    def get_help_text(self) -> str:
        return _(
            "Not your name, your identifier, your social security number or your date of birth."
        )
