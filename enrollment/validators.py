"""Validation of one row of the beneficiaries CSV (see README, Beneficiaries CSV)."""

from __future__ import annotations

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


class BeneficiaryRowForm(forms.Form):
    nir = forms.CharField(max_length=32)
    last_name = forms.CharField(max_length=100)
    first_name = forms.CharField(max_length=100)
    birth_date = forms.CharField(max_length=10)
    delivery_point = forms.CharField(required=False, max_length=100)
    building = forms.CharField(required=False, max_length=100)
    street = forms.CharField(required=False, max_length=100)
    locality = forms.CharField(required=False, max_length=100)
    postcode = forms.CharField(max_length=16)
    city = forms.CharField(max_length=100)
    country = forms.CharField(required=False, max_length=60)
    regime = forms.CharField()
    opposition = forms.CharField(required=False)
    representative_nirs = forms.CharField(required=False)

    def clean_nir(self) -> str:
        return nir.validate(self.cleaned_data["nir"])

    def clean_birth_date(self) -> str:
        value = self.cleaned_data["birth_date"].strip()
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

    def clean_regime(self) -> str:
        value = self.cleaned_data["regime"].strip().lower()
        if value not in Regime.values:
            raise ValidationError(
                _("Unknown scheme “%(value)s”; expected one of: %(choices)s."),
                params={"value": value, "choices": ", ".join(Regime.values)},
                code="regime",
            )
        return value

    def clean_opposition(self) -> bool | None:
        """True (``oui``: the person opposes), False (``non``: they do not, lifting an earlier
        opposition) or None (empty or no column: unchanged)."""
        value = (self.cleaned_data.get("opposition") or "").strip().lower()
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

    def clean_representative_nirs(self) -> list[str] | None:
        """The representatives' normalised NIRs, in the file's order, or None (empty or no
        column: the links stay as they are). Whether each one is in the registry, and an adult,
        is for the service to say (enrollment.services.representatives)."""
        value = (self.cleaned_data.get("representative_nirs") or "").strip()
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

    def _check_representatives(self, data: dict[str, Any]) -> None:
        """Legal representatives are a minor's, never themself."""
        numbers = data.get("representative_nirs")
        if not numbers or "nir" not in data:
            return
        if data["nir"] in numbers:
            self.add_error(
                "representative_nirs",
                ValidationError(
                    _("A person cannot be their own legal representative. %(expected)s"),
                    params={"expected": EXPECTED_REPRESENTATIVES},
                    code="representatives_self",
                ),
            )
        elif "birth_date" in data:
            born = date.fromisoformat(data["birth_date"])
            if age_on(born, timezone.localdate()) >= MAJORITY_AGE:
                self.add_error(
                    "representative_nirs",
                    ValidationError(
                        _(
                            "This person is an adult (%(age)d or over): only a minor has legal "
                            "representatives. Leave the column empty for an adult."
                        ),
                        params={"age": MAJORITY_AGE},
                        code="representatives_adult",
                    ),
                )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what clean() returned, typed as never None
        self._check_representatives(data)
        needed = ("first_name", "last_name", "postcode", "city")
        if all(name in data for name in needed):
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
                for message in error.messages:
                    self.add_error(None, message)
        return data

    def reason(self) -> str:
        parts = [
            f"{name}: {' '.join(str(e) for e in errors)}"
            for name, errors in self.errors.items()
            if name != "__all__"
        ]
        parts += [str(e) for e in self.errors.get("__all__", [])]
        return "; ".join(parts)
