"""The postal letter's own details, and the checks the letter needs of the operator's.

Who the operator is (``DMP_OPERATOR_NAME``, ``DMP_OPERATOR_ADDRESS``, ``DMP_OPERATOR_PHONE``,
``DMP_OPERATOR_EMAIL``, ``DMP_DPO_CONTACT``) is read once, in ``public_pages.py``: the letter
prints the same values as the public pages. Here: what only the letter says (opening hours of
the phone line, the town before the date, who signs, how long the request and the letter are
kept), read from the environment with development defaults that say they are examples (production
refuses to start without each of ``LETTER_REQUIRED``, as without the operator's details); and the
postal limits the sender block must meet (NF Z10-011: at most 38 characters a line, at most 6
lines with the name), checked at start-up rather than at every letter's rendering.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from dmp_portal.settings.env import Env
from dmp_portal.settings.public_pages import DMP_OPERATOR_ADDRESS, DMP_OPERATOR_NAME

__all__ = [
    "DMP_LETTER_PLACE",
    "DMP_LETTER_RETENTION",
    "DMP_LETTER_SIGNATORY",
    "DMP_OPERATOR_PHONE_HOURS",
    "LETTER_REQUIRED",
]

_env = Env()


def _lines(name: str, default: str, most: int, width: int) -> tuple[str, ...]:
    lines = tuple(line.strip() for line in _env.line(name, default).split(";") if line.strip())
    if not 1 <= len(lines) <= most:
        raise ImproperlyConfigured(f"{name} holds 1 to {most} lines separated by ';'.")
    if any(len(line) > width for line in lines):
        raise ImproperlyConfigured(f"{name}: each line holds at most {width} characters.")
    return lines


# The sender block of the letter is a postal return address: the name and 1 to 5 lines.
if len(DMP_OPERATOR_NAME) > 38 or not 1 <= len(DMP_OPERATOR_ADDRESS) <= 5:
    raise ImproperlyConfigured(
        "DMP_OPERATOR_NAME holds at most 38 characters and DMP_OPERATOR_ADDRESS 1 to 5 lines "
        "separated by ';': they are the return address of the postal letter."
    )
if any(len(line) > 38 for line in DMP_OPERATOR_ADDRESS):
    raise ImproperlyConfigured("DMP_OPERATOR_ADDRESS: each line holds at most 38 characters.")

# Printed after the phone number: "Appelez le 01 23 45 67 89, appel non surtaxé, du lundi...".
DMP_OPERATOR_PHONE_HOURS = _env.line(
    "DMP_OPERATOR_PHONE_HOURS", "appel non surtaxé, du lundi au vendredi de 8 h à 18 h"
)
# The town before the date: "Paris, le 28 novembre 2026".
DMP_LETTER_PLACE = _env.line("DMP_LETTER_PLACE", "Paris")
# Who signs, 1 to 3 lines: "Le responsable du service des inscriptions;Jean Exemple".
DMP_LETTER_SIGNATORY = _lines(
    "DMP_LETTER_SIGNATORY", "Le responsable du service des inscriptions (exemple)", 3, 60
)
# The data-protection notice's retention period: "Conservation : <this>."
DMP_LETTER_RETENTION = _env.line(
    "DMP_LETTER_RETENTION", "un an après l'envoi de ce courrier (durée d'exemple)"
)

# What production refuses to start without (each also as NAME_FILE), beside OPERATOR_REQUIRED: a
# deployment never prints the example signatory or retention period, nor a town it is not in.
# The phone line's hours have a true default and stay optional.
LETTER_REQUIRED = ("DMP_LETTER_PLACE", "DMP_LETTER_SIGNATORY", "DMP_LETTER_RETENTION")
