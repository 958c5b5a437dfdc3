"""The FHIR API's own limits (issue 19; README, « FHIR API »).

Calls are counted per application (every practitioner using it together) and per practitioner
(whatever the application), in the shared cache (Redis), as the other throttles
(``accounts.throttling``); past a limit the API answers 429 with ``Retry-After`` until the
window ends. ``FHIR_PAGE_SIZE`` and ``FHIR_MAX_PAGE_SIZE``: a DocumentReference search's
default ``_count`` and the most it may ask for.
"""

from __future__ import annotations

from dmp_portal.settings.env import Env

__all__ = [
    "FHIR_CALLS_PER_APPLICATION",
    "FHIR_CALLS_PER_PRACTITIONER",
    "FHIR_CALL_WINDOW_SECONDS",
    "FHIR_MAX_PAGE_SIZE",
    "FHIR_PAGE_SIZE",
]

_env = Env()

FHIR_CALLS_PER_APPLICATION = _env.int("FHIR_CALLS_PER_APPLICATION", 600)
FHIR_CALLS_PER_PRACTITIONER = _env.int("FHIR_CALLS_PER_PRACTITIONER", 120)
FHIR_CALL_WINDOW_SECONDS = _env.int("FHIR_CALL_WINDOW_SECONDS", 60)
FHIR_PAGE_SIZE = 20
FHIR_MAX_PAGE_SIZE = 100
