"""Background jobs of the accounts app. They take ids, never personal data."""

import logging

from celery import shared_task
from django.core.management import call_command

from accounts.services import contact_email, password
from accounts.services.practitioners import send_invitation
from accounts.services.reinvite import send_reinvitation, send_reinvitation_notice

operations_log = logging.getLogger("dmp.operations")


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_practitioner_invitation(user_id: str) -> None:
    send_invitation(user_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_contact_confirmation(change_id: int) -> bool:
    return contact_email.send_confirmation(change_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_contact_change_notice(change_id: int) -> bool:
    return contact_email.send_change_notice(change_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_password_reset(*user_ids: str) -> int:
    """One per reset request, whatever the address: no id for an unknown one (the request then
    reaches the broker all the same); one id per account otherwise. A message queued before this
    version, with one id, is read the same way."""
    return password.send_reset_links(user_ids)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_password_changed_notice(user_id: str) -> bool:
    return password.send_changed_notice(user_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_practitioner_reinvitation(user_id: str) -> None:
    send_reinvitation(user_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_practitioner_reinvitation_notice(user_id: str) -> bool:
    return send_reinvitation_notice(user_id)


@shared_task
def clear_expired_sessions() -> None:
    """Daily (beat): delete the sessions past their expiry, through Django's own command, which
    asks the session engine (accounts.sessions.SessionStore.clear_expired)."""
    call_command("clearsessions")
    operations_log.info("expired sessions cleared")
