"""The ground's one background job: the worker's heartbeat, for /healthz/ready."""

from celery import shared_task

from dmp_portal.health import record_worker_heartbeat


# Short expiry: a heartbeat that waited in the queue longer than the readiness window would
# claim a worker answered when none did in time.
@shared_task(expires=60)
def worker_heartbeat() -> None:
    record_worker_heartbeat()
