"""Postal addresses after the French norm NF Z10-011: at most six lines of 38 characters.

1. recipient, 2. delivery point (flat, c/o), 3. building, 4. number and street, 5. lieu-dit or
BP, 6. postcode and locality; abroad, a last line names the country. Lines 4 to 6 (and the
country) are in upper case, without punctuation or accents. Empty lines are left out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MAX_LINE = 38
FRANCE = "FRANCE"


def _plain_upper(value: str) -> str:
    without_accents = value or ""
    # Plain ASCII (most lines) has no accent to take off: skipped, as it changes nothing there
    # (a registry import checks a million addresses, issue 18).
    if not without_accents.isascii():
        decomposed = unicodedata.normalize("NFKD", without_accents.translate(_LATIN))
        without_accents = "".join(c for c in decomposed if not unicodedata.combining(c))
    without_punctuation = re.sub(r"[^\w\s]|_", " ", without_accents)
    return re.sub(r"\s+", " ", without_punctuation).strip().upper()


# Letters with no Unicode decomposition to a plain Latin letter.
_LATIN = str.maketrans(
    {
        "Ł": "L",
        "ł": "l",
        "Đ": "D",
        "đ": "d",
        "Ħ": "H",
        "ħ": "h",
        "ı": "i",
        "Ŋ": "N",
        "ŋ": "n",
        "Ŧ": "T",
        "ŧ": "t",
        "Ŀ": "L",
        "ŀ": "l",
    }
)


def _printable(ch: str) -> bool:
    try:
        ch.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _latin(ch: str) -> str:
    """A character the letter's fonts can print (their Windows-1252 set): Ễ -> E, Ł -> L."""
    if _printable(ch):
        return ch
    ch = ch.translate(_LATIN)
    plain = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    return "".join(c for c in plain if _printable(c))


def _tidy(value: str) -> str:
    value = value or ""
    if not value.isascii():  # every ASCII character is printable as it is (Windows-1252)
        value = "".join(_latin(ch) for ch in value)
    return re.sub(r"\s+", " ", value).strip()


class PostalAddressJson(TypedDict):
    """A ``PostalAddress`` as the registry stores it (JSON)."""

    lines: list[str]
    postcode: str
    city: str
    country: str
    parts: NotRequired[dict[str, str]]  # always written; an address may be stored without


@dataclass(frozen=True)
class PostalAddress:
    lines: tuple[str, ...]
    postcode: str
    city: str
    country: str  # "FRANCE" or the country line
    # The columns it was built from, for editing.
    parts: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> PostalAddressJson:
        return {
            "lines": list(self.lines),
            "postcode": self.postcode,
            "city": self.city,
            "country": self.country,
            "parts": dict(self.parts),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PostalAddress:
        """From the stored JSON (a ``PostalAddressJson``, read back untyped)."""
        return cls(
            tuple(data["lines"]),
            data["postcode"],
            data["city"],
            data["country"],
            dict(data.get("parts", {})),
        )


def recipient_line(first_name: str, last_name: str) -> str:
    line = f"{_tidy(first_name)} {_tidy(last_name).upper()}"
    if len(line) > MAX_LINE:  # the norm allows the first name to be shortened to its initial
        line = f"{_tidy(first_name)[:1]}. {_tidy(last_name).upper()}"
    return line


def build_address(
    *,
    first_name: str,
    last_name: str,
    delivery_point: str,
    building: str,
    street: str,
    locality: str,
    postcode: str,
    city: str,
    country: str,
) -> PostalAddress:
    """Normalise and check an address; ValidationError names each line that does not fit."""
    country_line = _plain_upper(country)
    abroad = country_line not in ("", FRANCE)
    postcode = _plain_upper(postcode).replace(" ", "") if not abroad else _plain_upper(postcode)
    city_line = _plain_upper(city)
    if not abroad and not re.fullmatch(r"\d{5}", postcode):
        raise ValidationError(
            _("postcode: a French postcode has 5 digits, for example 75015."), code="postcode"
        )
    if not city_line:
        raise ValidationError(_("city: the locality is required."), code="city")
    candidates = [
        ("last_name", recipient_line(first_name, last_name)),
        ("delivery_point", _tidy(delivery_point)),
        ("building", _tidy(building)),
        ("street", _plain_upper(street)),
        ("locality", _plain_upper(locality)),
        ("city", f"{postcode} {city_line}".strip()),
    ]
    if abroad:
        candidates.append(("country", country_line))
    errors = [
        ValidationError(
            # The line itself is not repeated: the import report must not carry the address.
            _(
                "%(column)s: this address line has %(count)d characters; the postal norm allows "
                "at most 38."
            ),
            params={"column": column, "count": len(line)},
            code="line_length",
        )
        for column, line in candidates
        if len(line) > MAX_LINE
    ]
    if errors:
        raise ValidationError(errors)
    lines = tuple(line for _column, line in candidates if line)
    parts = {
        "delivery_point": delivery_point or "",
        "building": building or "",
        "street": street or "",
        "locality": locality or "",
        "postcode": postcode,
        "city": city or "",
        "country": country or "",
    }
    return PostalAddress(lines, postcode, city_line, country_line if abroad else FRANCE, parts)
