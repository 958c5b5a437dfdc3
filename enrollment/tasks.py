"""Background jobs of the enrolment app. They take ids, never personal data."""

from uuid import UUID

from celery import shared_task

from dmp_portal.queueing import DURABLE_TASK
from enrollment.services import majority
from enrollment.services.activation import forget_old_failures
from enrollment.services.notices import send_opening_email as send_opening_notice
from enrollment.services.requests import process_request, requeue_stalled


@shared_task(**DURABLE_TASK)
def process_enrollment_request(request_id: int) -> None:
    process_request(request_id)


@shared_task
def requeue_stalled_requests() -> int:
    # The beat's five-minute housekeeping of enrolment: wrong-code tries older than a day
    # count for nothing and are deleted here too, rather than in a schedule of their own.
    forget_old_failures()
    return requeue_stalled()


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_opening_email(event_id: int) -> bool:
    """Queued by every activation and reactivation, with the id of its audit event."""
    return send_opening_notice(event_id)


@shared_task
def queue_majorities() -> int:
    """Beat, daily (issue 17): one ``come_of_age`` task per child 18 or over today whose record
    still has a live legal representation, a missed day caught up (services.majority)."""
    return majority.queue_majorities()


@shared_task(**DURABLE_TASK)
def come_of_age(minor_id: str) -> bool:
    """End the representations of this record and ask for the young adult's letter;
    idempotent (a record already handled has no live representation)."""
    return majority.come_of_age(UUID(minor_id))
