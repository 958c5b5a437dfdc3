"""Notification e-mails and access requests. Tasks take ids and a kind, never personal data."""

import uuid

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation

from access_control import access_requests
from access_control.models import RecordSettings, TreatingPhysician
from access_control.notifications import ALWAYS_SENT, KINDS, PREFERENCE_FIELD
from access_control.policy import has_consent
from access_control.purge import purge_due_records
from accounts.models import User
from accounts.selectors import verified_email
from dmp_portal.queueing import DURABLE_TASK


def _send(template: str, address: str, language: str) -> None:
    """In the language the person last used the portal in (French before their first login)."""
    context = {"site_url": settings.DMP_SITE_URL}
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = render_to_string(f"access_control/email/{template}_subject.txt", context)
        body = render_to_string(f"access_control/email/{template}_body.txt", context)
    send_mail(subject.strip(), body, None, [address])


@shared_task(**DURABLE_TASK)
def process_access_request(event_id: int) -> bool:
    """Queued by every access request, allowed or not, with the id of its audit event."""
    return access_requests.deliver_access_request(event_id)


@shared_task
def requeue_access_requests() -> int:
    """Beat, every five minutes: queue again the requests whose task was lost."""
    return access_requests.requeue_access_requests()


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_patient_notification(kind: str, patient_id: str) -> bool:
    if kind not in KINDS:
        return False
    preferences = (
        RecordSettings.objects.select_related("patient")
        .filter(patient_id=uuid.UUID(patient_id))
        .first()
    )
    if kind in ALWAYS_SENT:
        patient = User.objects.filter(pk=uuid.UUID(patient_id)).first()
    elif preferences is None or not getattr(preferences, PREFERENCE_FIELD[kind]):
        return False
    else:
        patient = preferences.patient
    # Nobody whose account was closed for good (a recorded death, a purge) is written to: their
    # mailbox may be read by others now. Only the address the patient confirmed: one given and
    # not confirmed gets nothing.
    if patient is None or not patient.is_active:
        return False
    address = verified_email(patient)
    if address is None:
        return False
    _send(kind, address, patient.language)
    return True


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_physician_emergency_notification(patient_id: str) -> bool:
    link = (
        TreatingPhysician.objects.select_related("physician")
        .filter(patient_id=uuid.UUID(patient_id))
        .first()
    )
    if link is None:
        return False
    if not has_consent(link.patient, link.physician):  # blocked or revoked since designation
        return False
    address = verified_email(link.physician)
    if address is None:
        return False
    _send("physician_emergency", address, link.physician.language)
    return True


@shared_task
def purge_closed_records() -> int:
    """Beat, daily: purge every closed record whose archive period ended (README, Archive and
    purge). The door knows it as the daily purge (``DAILY_PURGE``), the event's reason; a
    record that fails is left for tomorrow."""
    return len(purge_due_records().purged)
