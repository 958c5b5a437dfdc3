"""Who runs the portal, as the public pages show it (legal notice, privacy notice, accessibility
statement, help).

Every value comes from the environment. The development defaults say that they are examples;
production refuses to start without each of ``OPERATOR_REQUIRED`` (``__init__.py``), so that a
deployment never shows them. A postal address is given as its lines separated by ``;``
(``"Service des inscriptions;TSA 12345;75000 PARIS"``), as the postal letter reads it.

The first five names are the ones the postal letter uses for the sender: one setting each,
whatever shows it.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from dmp_portal.settings.env import Env

__all__ = [
    "DMP_DPO_CONTACT",
    "DMP_HOST_ADDRESS",
    "DMP_HOST_NAME",
    "DMP_HOST_PHONE",
    "DMP_OPERATOR_ADDRESS",
    "DMP_OPERATOR_EMAIL",
    "DMP_OPERATOR_NAME",
    "DMP_OPERATOR_PHONE",
    "DMP_OPERATOR_REGISTRATION",
    "DMP_PUBLICATION_DIRECTOR",
    "OPERATOR_REQUIRED",
]

_env = Env()


def _lines(name: str, default: str) -> tuple[str, ...]:
    lines = tuple(line.strip() for line in _env.line(name, default).split(";") if line.strip())
    if not lines:
        raise ImproperlyConfigured(
            f"{name} holds the lines of a postal address separated by ';', for example "
            "'Service des inscriptions;TSA 12345;75000 PARIS'."
        )
    return lines


# The operator: the organisation that runs the portal, publishes it and is the controller of
# its data. 01 99 00 xx xx is a range the French regulator (ARCEP) sets aside for fiction.
DMP_OPERATOR_NAME = _env.line("DMP_OPERATOR_NAME", "Opérateur du DMP (exemple)")
DMP_OPERATOR_ADDRESS = _lines(
    "DMP_OPERATOR_ADDRESS", "Service des inscriptions (exemple);TSA 00000;75000 PARIS"
)
DMP_OPERATOR_PHONE = _env.line("DMP_OPERATOR_PHONE", "01 99 00 00 00 (numéro d'exemple)")
DMP_OPERATOR_EMAIL = _env.line("DMP_OPERATOR_EMAIL", "contact@example.org")
# How to reach the data protection officer (DPO): a postal or e-mail address, shown as it is.
DMP_DPO_CONTACT = _env.line(
    "DMP_DPO_CONTACT", "Délégué à la protection des données (exemple), dpo@example.org"
)

# The legal notice only (French law on the digital economy, LCEN, article 6): the operator's
# registration (SIREN, or its founding text for a public body), the director of publication,
# and the host of the servers.
DMP_OPERATOR_REGISTRATION = _env.line("DMP_OPERATOR_REGISTRATION", "SIREN 000 000 000 (exemple)")
DMP_PUBLICATION_DIRECTOR = _env.line("DMP_PUBLICATION_DIRECTOR", "Camille Exemple (exemple)")
DMP_HOST_NAME = _env.line("DMP_HOST_NAME", "Hébergeur de données de santé (exemple)")
DMP_HOST_ADDRESS = _lines("DMP_HOST_ADDRESS", "1 rue de l'Exemple;69000 LYON")
DMP_HOST_PHONE = _env.line("DMP_HOST_PHONE", "01 99 00 00 01 (numéro d'exemple)")

# What production refuses to start without (each also as NAME_FILE).
OPERATOR_REQUIRED = tuple(name for name in __all__ if name.startswith("DMP_"))
