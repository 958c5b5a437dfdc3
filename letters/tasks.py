"""Background jobs of the letters app. They take ids, never personal data."""

from celery import shared_task

from letters import services


# acks_late: a worker that dies mid-task leaves the message on the broker for another worker;
# rendering is idempotent, so running it twice is harmless.
@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=10,
)
def render_letter(letter_id: int) -> None:
    services.render(letter_id)


@shared_task
def requeue_stalled_letters() -> int:
    return services.requeue_stalled()
