"""Rate limits of the FHIR API (issue 19, item 5; README, « FHIR API », « Limits »).

Every call counts once for its application (all its practitioners together) and once for its
practitioner (whatever the application), in the shared cache, through the portal's throttles
(``accounts.throttling``: keyed-hash keys, refusals counted in ``dmp_throttled_total``). Past a
limit, calls are refused until ``FHIR_CALL_WINDOW_SECONDS`` have passed. The look-up of a
patient by NIR keeps, on top of these, its own limit (``PRO_LOOKUPS_PER_WINDOW``), shared with
``/pro/``.
"""

from __future__ import annotations

from django.conf import settings

from accounts.models import User
from accounts.throttling import Throttle


def application_throttle() -> Throttle:
    return Throttle(
        "fhir-application", settings.FHIR_CALLS_PER_APPLICATION, settings.FHIR_CALL_WINDOW_SECONDS
    )


def practitioner_throttle() -> Throttle:
    return Throttle(
        "fhir-practitioner",
        settings.FHIR_CALLS_PER_PRACTITIONER,
        settings.FHIR_CALL_WINDOW_SECONDS,
    )


def wait_before_call(practitioner: User, client_id: str) -> int:
    """Count this call; 0 when it may go ahead, else the seconds to wait (nothing more is
    counted once one limit refuses)."""
    waiting = practitioner_throttle().attempt(str(practitioner.pk))
    if waiting:
        return waiting
    return application_throttle().attempt(client_id)
