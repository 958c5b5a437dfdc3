"""What a creation letter says, as plain values checked before anything is drawn."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip
_CODE_RE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}(?:-[0-9A-HJKMNP-TV-Z]{4}){2}")  # Crockford, no ILOU
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def _printable(*values: str) -> None:
    if any(_CONTROL_RE.search(value) for value in values):
        raise ValueError("control characters (line breaks, tabs) are not printable")


@dataclass(frozen=True)
class Sender:
    """Who writes: the operator of the portal, as its settings name it (DMP_OPERATOR_*)."""

    name: str  # also the controller of the data in the notice
    address_lines: tuple[str, ...]  # the return address, 1 to 5 lines
    phone: str
    phone_hours: str  # after the number: "appel non surtaxé, du lundi au vendredi de 8 h à 18 h"
    email: str
    dpo_contact: str
    place: str  # printed before the date: "Paris, le 28 novembre 2026"
    signatory: tuple[str, ...]  # 1 to 3 lines
    retention: str  # how long the request and the letter are kept, in words

    def __post_init__(self) -> None:
        if not 1 <= len(self.address_lines) <= 5 or not 1 <= len(self.signatory) <= 3:
            raise ValueError("a return address has 1 to 5 lines, a signatory 1 to 3")
        _printable(self.name, *self.address_lines, self.phone, self.phone_hours, self.email)
        _printable(self.dpo_contact, self.place, *self.signatory, self.retention)
        if any(len(line) > 38 for line in (self.name, *self.address_lines)):
            raise ValueError("a line of the return address has at most 38 characters")


@dataclass(frozen=True)
class LetterContent:
    reference: str  # non-secret letter reference, e.g. "L-7K2QD9XW"
    issued_on: datetime.date
    address_lines: tuple[str, ...]  # 2 to 7 lines of at most 38 characters, NF Z10-011
    creation_code: str  # "XXXX-XXXX-XXXX"
    expires_on: datetime.date
    activate_url: str  # absolute, from reverse(): "https://dmp.example.fr/enrollment/activate/"
    request_url: str  # where to ask for a new code: "https://dmp.example.fr/enrollment/"
    portal_address: str  # the short public address in the header: "dmp.example.fr"
    sender: Sender
    # The code this letter replaces was burned by wrong tries on that day...
    previous_code_blocked_on: datetime.date | None = None
    # ...or only slowed down by them, the last one on that day.
    previous_code_tried_on: datetime.date | None = None
    # The record exists: the code reactivates its account (new password, new second factor).
    reactivation: bool = False

    def __post_init__(self) -> None:
        # Fail before printing rather than post a letter with a clipped address or a wrong code.
        _check_address(self.address_lines)
        _printable(*self.address_lines, self.reference, self.portal_address)
        _printable(self.activate_url, self.request_url)
        if not _CODE_RE.fullmatch(self.creation_code):
            raise ValueError("the creation code is XXXX-XXXX-XXXX in Crockford's base32")
        if self.expires_on < self.issued_on:
            raise ValueError("the code cannot expire before the letter is issued")
        for url in (self.activate_url, self.request_url):
            if not re.fullmatch(r"https?://\S+", url):
                raise ValueError("the portal's URLs are absolute http(s) URLs")


@dataclass(frozen=True)
class NoticeContent:
    """The short notice that an account was opened (first activation) or reactivated, posted
    to the same address as the code: whoever did it, the person learns of it. No code."""

    reference: str
    issued_on: datetime.date
    address_lines: tuple[str, ...]
    opened_on: datetime.date  # the day of the activation or reactivation
    reactivation: bool
    portal_address: str
    sender: Sender

    def __post_init__(self) -> None:
        _check_address(self.address_lines)
        _printable(*self.address_lines, self.reference, self.portal_address)
        if self.issued_on < self.opened_on:
            raise ValueError("a notice cannot be issued before what it tells of")


def _check_address(lines: tuple[str, ...]) -> None:
    if not 2 <= len(lines) <= 7:
        raise ValueError("an address has 2 to 7 lines")
    if any(len(line) > 38 for line in lines):
        raise ValueError("an address line has at most 38 characters")


def french_date(day: datetime.date) -> str:
    """'1er décembre 2026', '28 novembre 2026': spelled out, whatever the process locale."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {MONTHS[day.month - 1]} {day.year}"
