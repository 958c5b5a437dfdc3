"""Background jobs of the letters app. They take ids, never personal data."""

from celery import shared_task

from dmp_portal.queueing import DURABLE_TASK
from letters import services


# Rendering is idempotent, so running it twice (DURABLE_TASK's redelivery) is harmless.
@shared_task(**DURABLE_TASK)
def render_letter(letter_id: int) -> None:
    services.render(letter_id)


@shared_task
def requeue_stalled_letters() -> int:
    return services.requeue_stalled()
