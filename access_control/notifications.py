"""E-mails that tell a patient something happened to their record. They never carry health
data, nor who the practitioner is: only that something happened, and where to look."""

from __future__ import annotations

from django.db import transaction

KINDS = ("first_access", "emergency", "request", "new_document")
_PREFERENCE = {
    "first_access": "notify_first_access",
    "emergency": "notify_emergency",
    "request": "notify_request",
    "new_document": "notify_new_document",
}


def notify_patient(kind: str, patient) -> None:
    """Queue the e-mail once the current transaction commits (tasks take ids only)."""
    from access_control.tasks import send_patient_notification

    if kind not in KINDS:
        raise ValueError(f"unknown notification kind: {kind!r}")
    patient_id = str(patient.pk)
    transaction.on_commit(lambda: send_patient_notification.delay(kind, patient_id), robust=True)


def notify_treating_physician_of_emergency(patient) -> None:
    from access_control.tasks import send_physician_emergency_notification

    patient_id = str(patient.pk)
    transaction.on_commit(
        lambda: send_physician_emergency_notification.delay(patient_id), robust=True
    )
