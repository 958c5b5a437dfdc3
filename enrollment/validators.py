"""Validation of one row of the beneficiaries CSV (see README, Beneficiaries CSV)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enrollment import nir
from enrollment.models import MAJORITY_AGE, REPRESENTATIVES_AT_MOST, Regime, age_on
from enrollment.postal import build_address

BENEFICIARY_COLUMNS = (
    "nir",
    "last_name",
    "first_name",
    "birth_date",
    "delivery_point",
    "building",
    "street",
    "locality",
    "postcode",
    "city",
    "country",
    "regime",
)
# Optional column (README, Beneficiaries CSV): the person's opposition to the creation of their
# record. Absent or empty: unchanged.
OPPOSITION_VALUES = {"oui": True, "non": False}
# Optional column (README, Beneficiaries CSV, issue 17): a minor's legal representatives, one or
# two NIRs separated by ``;``. Absent or empty: the links stay as they are.
REPRESENTATIVES_SEPARATOR = ";"
# Said after each of the column's errors.
EXPECTED_REPRESENTATIVES = _(
    "Expected: one or two social security numbers of the minor's legal representatives, "
    "separated by “;” (for example 1 85 05 78 006 084 91;2 90 03 75 112 005 42), or nothing to "
    "leave the links as they are."
)


# The columns' basic rules (required, length, no null character) are Django's form fields, for
# their French messages; they are only read (``Field.clean`` keeps no state), so one set serves
# every row. Issue 18: a ``Form`` per row (a deep copy of its fields, bound fields, an error
# dict) was the largest cost of the registry import, so a row is checked by ``check_row``.
ROW_FIELDS: dict[str, forms.Field] = {
    "nir": forms.CharField(max_length=32),
    "last_name": forms.CharField(max_length=100),
    "first_name": forms.CharField(max_length=100),
    "birth_date": forms.CharField(max_length=10),
    "delivery_point": forms.CharField(required=False, max_length=100),
    "building": forms.CharField(required=False, max_length=100),
    "street": forms.CharField(required=False, max_length=100),
    "locality": forms.CharField(required=False, max_length=100),
    "postcode": forms.CharField(max_length=16),
    "city": forms.CharField(max_length=100),
    "country": forms.CharField(required=False, max_length=60),
    "regime": forms.CharField(),
    "opposition": forms.CharField(required=False),
    "representative_nirs": forms.CharField(required=False),
}


def clean_birth_date(value: str) -> str:
    value = value.strip()
    try:
        born = date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError(
            _("Expected a date as YYYY-MM-DD, for example 1985-05-14."), code="date"
        ) from exc
    if len(value) != 10 or born > timezone.localdate() or born.year < 1880:
        raise ValidationError(
            _("Expected a past date as YYYY-MM-DD, for example 1985-05-14."), code="date"
        )
    return born.isoformat()


# Read once (``Regime.values`` builds its list at every read).
REGIMES = frozenset(Regime.values)


def clean_regime(value: str) -> str:
    value = value.strip().lower()
    if value not in REGIMES:
        raise ValidationError(
            _("Unknown scheme “%(value)s”; expected one of: %(choices)s."),
            params={"value": value, "choices": ", ".join(Regime.values)},
            code="regime",
        )
    return value


def clean_opposition(value: str) -> bool | None:
    """True (``oui``: the person opposes), False (``non``: they do not, lifting an earlier
    opposition) or None (empty or no column: unchanged)."""
    value = (value or "").strip().lower()
    if not value:
        return None
    if value not in OPPOSITION_VALUES:
        raise ValidationError(
            _(
                "Unexpected value “%(value)s”; expected oui (the person opposes the "
                "creation of their record), non (they do not) or nothing (unchanged)."
            ),
            params={"value": value[:20]},
            code="opposition",
        )
    return OPPOSITION_VALUES[value]


def clean_representative_nirs(value: str) -> list[str] | None:
    """The representatives' normalised NIRs, in the file's order, or None (empty or no
    column: the links stay as they are). Whether each one is in the registry, and an adult,
    is for the service to say (enrollment.services.representatives)."""
    value = (value or "").strip()
    if not value:
        return None
    parts = value.split(REPRESENTATIVES_SEPARATOR)
    if len(parts) > REPRESENTATIVES_AT_MOST:
        raise ValidationError(
            _(
                "%(count)d numbers given, but a minor has one or two legal representatives. "
                "%(expected)s"
            ),
            params={"count": len(parts), "expected": EXPECTED_REPRESENTATIVES},
            code="representatives_count",
        )
    numbers = []
    for position, part in enumerate(parts, start=1):
        try:
            numbers.append(nir.validate(part))
        except ValidationError as error:
            raise ValidationError(
                _("Number %(position)d: %(error)s %(expected)s"),
                params={
                    "position": position,
                    "error": " ".join(error.messages),
                    "expected": EXPECTED_REPRESENTATIVES,
                },
                code="representatives_nir",
            ) from error
    if len(set(numbers)) != len(numbers):
        raise ValidationError(
            _("The same person is named twice. %(expected)s"),
            params={"expected": EXPECTED_REPRESENTATIVES},
            code="representatives_twice",
        )
    return numbers


# A column's own rule, after its field's, on the field's cleaned value.
COLUMN_CHECKS: dict[str, Callable[[str], Any]] = {
    "nir": nir.validate,
    "birth_date": clean_birth_date,
    "regime": clean_regime,
    "opposition": clean_opposition,
    "representative_nirs": clean_representative_nirs,
}


def representatives_error(data: Mapping[str, Any]) -> ValidationError | None:
    """Legal representatives are a minor's, never themself (on the columns that passed)."""
    numbers = data.get("representative_nirs")
    if not numbers or "nir" not in data:
        return None
    if data["nir"] in numbers:
        return ValidationError(
            _("A person cannot be their own legal representative. %(expected)s"),
            params={"expected": EXPECTED_REPRESENTATIVES},
            code="representatives_self",
        )
    if "birth_date" in data:
        born = date.fromisoformat(data["birth_date"])
        if age_on(born, timezone.localdate()) >= MAJORITY_AGE:
            return ValidationError(
                _(
                    "This person is an adult (%(age)d or over): only a minor has legal "
                    "representatives. Leave the column empty for an adult."
                ),
                params={"age": MAJORITY_AGE},
                code="representatives_adult",
            )
    return None


def check_row(row: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """A row of the file checked: its cleaned values (with ``address``, a ``PostalAddress``)
    and "", or ``{}`` and the French reason to reject it, every column at fault named in the
    columns' order (``column: message``), then what concerns the row as a whole.

    The same checks, in the same order, with the same messages as a Django form would make:
    each column's field, then its own rule (``COLUMN_CHECKS``) if the field passed; then the
    representatives against the row, then the postal address from the columns that passed.
    """
    data: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, column in ROW_FIELDS.items():
        try:
            value = column.clean(row.get(name))
            check = COLUMN_CHECKS.get(name)
            data[name] = check(value) if check else value
        except ValidationError as error:
            errors[name] = error.messages
    whole: list[str] = []
    refused = representatives_error(data)
    if refused is not None:
        errors["representative_nirs"] = refused.messages
        del data["representative_nirs"]
    if all(name in data for name in ("first_name", "last_name", "postcode", "city")):
        try:
            data["address"] = build_address(
                first_name=data["first_name"],
                last_name=data["last_name"],
                delivery_point=data.get("delivery_point", ""),
                building=data.get("building", ""),
                street=data.get("street", ""),
                locality=data.get("locality", ""),
                postcode=data["postcode"],
                city=data["city"],
                country=data.get("country", ""),
            )
        except ValidationError as error:
            whole = error.messages
    if not errors and not whole:
        return data, ""
    parts = [f"{name}: {' '.join(messages)}" for name, messages in errors.items()]
    return {}, "; ".join(parts + whole)
