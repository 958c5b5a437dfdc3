"""A code that opens nothing at /enrollment/activate/ leaves one refused event on the system
chain: the same event for every number (known or not, with a live, expired, used, superseded
or burnt code, or none), naming neither the number, the code nor a record, so the trail keeps
the try and gives no clue; the answer stays the one refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from enrollment.models import CreationCode
from tests.enrollment.factories import (
    NEW_PASSWORD,
    REFUSAL,
    make_beneficiary,
    make_nir,
    submit_code,
)

pytestmark = pytest.mark.django_db
LATER = datetime.now(tz=UTC).replace(hour=8, minute=0) + timedelta(days=30)
WRONG = "7K2Q-D9XW-4MHN"


def refused_try(nir: str, code: str, address: str) -> tuple:
    """Submit, check the one answer, and return the one event it wrote (what it says)."""
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    response = submit_code(Client(REMOTE_ADDR=address), nir, code)
    assert response.status_code == 200
    assert REFUSAL in " ".join(response.context["form"].non_field_errors())
    written = AuditEvent.objects.exclude(pk__in=before).select_related("chain")
    assert len(written) == 1, list(written.values_list("action", "outcome", "reason"))
    event = written.get()
    assert str(event.client_address) == address
    assert nir not in event.reason and code.replace("-", "") not in event.reason.upper()
    return (
        event.chain.key,
        event.actor_id,
        event.actor_role,
        event.patient_id,
        event.document_uid,
        event.action,
        event.outcome,
        event.reason,
    )


def test_every_kind_of_bad_code_writes_the_same_refused_event_on_the_system_chain(
    enrolled, posted_code, open_with
):
    with time_machine.travel(LATER, tick=False) as clock:
        patient = make_beneficiary()
        enrolled(patient)
        no_record = make_beneficiary()
        live = posted_code(no_record, address="192.0.2.11")
        events = {
            "unknown number": refused_try(make_nir(place="75056"), WRONG, "192.0.2.20"),
            "known, no live code": refused_try(make_beneficiary().nir, WRONG, "192.0.2.21"),
            "wrong code": refused_try(no_record.nir, WRONG, "192.0.2.22"),
            "another number's code": refused_try(patient.nir, live, "192.0.2.23"),
        }
        # A used code (the patient's creation code was used by ``enrolled``), a superseded one,
        # an expired one and a burnt one: reactivation codes of the patient.
        first = posted_code(patient, address="192.0.2.12")
        clock.shift(86400 * (settings.ENROLLMENT_RESEND_DELAY_DAYS + 1))
        second = posted_code(patient, address="192.0.2.13")
        events["superseded"] = refused_try(patient.nir, first, "192.0.2.24")
        assert open_with(patient, second, NEW_PASSWORD).status_code == 200
        events["used"] = refused_try(patient.nir, second, "192.0.2.25")
        clock.shift(86400 * (settings.ENROLLMENT_RESEND_DELAY_DAYS + 1))
        third = posted_code(patient, address="192.0.2.14")
        CreationCode.objects.filter(beneficiary=patient, used_at__isnull=True).update(
            burned_at=timezone.now()
        )
        events["burnt"] = refused_try(patient.nir, third, "192.0.2.26")
        clock.shift(86400 * (settings.ENROLLMENT_RESEND_DELAY_DAYS + 1))
        fourth = posted_code(patient, address="192.0.2.15")
        clock.shift(86400 * (settings.ENROLLMENT_CODE_VALIDITY_DAYS + 1))
        events["expired"] = refused_try(patient.nir, fourth, "192.0.2.27")
    assert set(events.values()) == {
        ("system", None, "anonymous", None, None, "activate", "refused", "bad-code")
    }, events
