"""Who runs the portal, as printed on the postal letter (and the public pages): one place.

Every value comes from the environment. The development defaults say that they are examples, so
that a letter or a page showing them is never mistaken for a real one. A postal address is given
as its lines separated by ``;`` (``"Service des inscriptions;TSA 12345;75000 PARIS"``): each
line is printed as it is, at most 38 characters as the French postal norm (NF Z10-011) allows.
Bad values stop the process at start-up rather than every letter at rendering.
"""

from __future__ import annotations

import re

from django.core.exceptions import ImproperlyConfigured

from dmp_portal.settings.env import Env

__all__ = [
    "DMP_DPO_CONTACT",
    "DMP_LETTER_PLACE",
    "DMP_LETTER_RETENTION",
    "DMP_LETTER_SIGNATORY",
    "DMP_OPERATOR_ADDRESS",
    "DMP_OPERATOR_EMAIL",
    "DMP_OPERATOR_NAME",
    "DMP_OPERATOR_PHONE",
    "DMP_OPERATOR_PHONE_HOURS",
]

_env = Env()
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def _text(name: str, default: str, width: int | None = None) -> str:
    value = _env.str(name, default).strip()
    if _CONTROL_RE.search(value):
        raise ImproperlyConfigured(f"{name} holds a line break or a control character.")
    if width is not None and len(value) > width:
        raise ImproperlyConfigured(f"{name} holds at most {width} characters.")
    return value


def _lines(name: str, default: str, most: int, width: int = 38) -> tuple[str, ...]:
    lines = tuple(line.strip() for line in _text(name, default).split(";") if line.strip())
    if not 1 <= len(lines) <= most:
        raise ImproperlyConfigured(
            f"{name} holds 1 to {most} lines separated by ';', for example "
            "'Service des inscriptions;TSA 12345;75000 PARIS'."
        )
    if any(len(line) > width for line in lines):
        raise ImproperlyConfigured(f"{name}: each line holds at most {width} characters.")
    return lines


# The operator: the organisation that runs the portal and is the controller of its data.
# At most 38 characters: the first line of the return address.
DMP_OPERATOR_NAME = _text("DMP_OPERATOR_NAME", "Opérateur du DMP (exemple)", 38)
# Its postal address (the letter's return address), 1 to 5 lines.
DMP_OPERATOR_ADDRESS = _lines(
    "DMP_OPERATOR_ADDRESS", "Service des inscriptions (exemple);TSA 00000;75000 PARIS", 5
)
# 01 99 00 xx xx is a range the French regulator (ARCEP) sets aside for fiction: never a real line.
DMP_OPERATOR_PHONE = _text("DMP_OPERATOR_PHONE", "01 99 00 00 00")
DMP_OPERATOR_PHONE_HOURS = _text(
    "DMP_OPERATOR_PHONE_HOURS", "appel non surtaxé, du lundi au vendredi de 8 h à 18 h"
)
DMP_OPERATOR_EMAIL = _text("DMP_OPERATOR_EMAIL", "contact@example.org")
# How to reach the data protection officer (DPO): a postal or e-mail address, printed as it is.
DMP_DPO_CONTACT = _text(
    "DMP_DPO_CONTACT", "Délégué à la protection des données (exemple), dpo@example.org"
)

# The letter only: the town before its date, who signs it, and how long its data is kept.
DMP_LETTER_PLACE = _text("DMP_LETTER_PLACE", "Paris")
DMP_LETTER_SIGNATORY = _lines(
    "DMP_LETTER_SIGNATORY", "Le responsable du service des inscriptions (exemple)", 3, 60
)
DMP_LETTER_RETENTION = _text(
    "DMP_LETTER_RETENTION", "un an après l'envoi de ce courrier (durée d'exemple)"
)
