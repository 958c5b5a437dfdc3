"""Celery's queues, the route of every task (by its name) and each kind's time limits.

Why separate queues: a batch of ten thousand letters queued by an import must not hold back a
password-reset e-mail, nor the audit checkpoint that bounds how much of the trail is unsigned;
and a slow SMTP relay must not hold back the letters. Each kind gets its own queue, so that
workers can be given to each (docker-compose.yml: ``worker`` and ``worker-letters``).

Why time limits: a task stuck on a dead connection (SMTP, S3, a lock) would hold its worker
process for ever. The soft limit raises ``SoftTimeLimitExceeded`` inside the task (its
transaction rolls back; a durable task is retried with back-off); the hard limit, a little
later, kills the worker's child process (prefork pool only: the ``solo`` pool of the tests
enforces neither). Every task is routed and limited explicitly: ``tests/test_task_queues.py``
fails for a task that is not, so that a new task is placed on purpose.

Sizing (README, Background work: queues and time limits):

- letters: one letter renders in well under a second (reportlab, one page, then one encrypted
  write to the disk or the bucket); 30 s leaves room for a slow bucket, 60 s kills it;
- notifications: one e-mail is a handful of SMTP exchanges, each bounded by ``EMAIL_TIMEOUT``
  (10 s by default): 120 s soft, 150 s hard, whatever the relay does;
- checkpoints: signs the heads of every chain that moved since the last one, read in batches of
  5,000; a large trail after a long outage of the beat takes minutes: 15 min soft, 20 min hard
  (a second run meanwhile waits on nothing: the checkpoint's lock makes it skip);
- default, per request (an enrolment, an access request, a majority): database work of a few
  rows, well under a second: 60 s soft, 90 s hard;
- default, daily maintenance (purge, reveal, majorities, sessions): one pass over every due
  row, once a day: 30 min soft, 35 min hard.
"""

from __future__ import annotations

from typing import TypedDict

DEFAULT = "default"
LETTERS = "letters"
NOTIFICATIONS = "notifications"
CHECKPOINTS = "checkpoints"
QUEUES = (DEFAULT, LETTERS, NOTIFICATIONS, CHECKPOINTS)


class TimeLimits(TypedDict):
    soft_time_limit: int
    time_limit: int


LIMITS: dict[str, TimeLimits] = {
    "letter": {"soft_time_limit": 30, "time_limit": 60},
    "notification": {"soft_time_limit": 120, "time_limit": 150},
    "checkpoint": {"soft_time_limit": 15 * 60, "time_limit": 20 * 60},
    "request": {"soft_time_limit": 60, "time_limit": 90},
    "daily": {"soft_time_limit": 30 * 60, "time_limit": 35 * 60},
}

# task name -> (queue, kind of time limits). The beat's tasks are here too.
TASKS: dict[str, tuple[str, str]] = {
    # Letters: rendering (a code letter issues its code in the same transaction).
    "letters.tasks.render_letter": (LETTERS, "letter"),
    # E-mails.
    "accounts.tasks.send_practitioner_invitation": (NOTIFICATIONS, "notification"),
    "accounts.tasks.send_contact_confirmation": (NOTIFICATIONS, "notification"),
    "accounts.tasks.send_contact_change_notice": (NOTIFICATIONS, "notification"),
    "accounts.tasks.send_password_reset": (NOTIFICATIONS, "notification"),
    "accounts.tasks.send_password_changed_notice": (NOTIFICATIONS, "notification"),
    "accounts.tasks.send_practitioner_reinvitation": (NOTIFICATIONS, "notification"),
    "accounts.tasks.send_practitioner_reinvitation_notice": (NOTIFICATIONS, "notification"),
    "access_control.tasks.send_patient_notification": (NOTIFICATIONS, "notification"),
    "access_control.tasks.send_physician_emergency_notification": (
        NOTIFICATIONS,
        "notification",
    ),
    "enrollment.tasks.send_opening_email": (NOTIFICATIONS, "notification"),
    # The audit checkpoint (beat), on its own: never behind a backlog of anything else.
    "audit.tasks.write_audit_checkpoint": (CHECKPOINTS, "checkpoint"),
    # Everything else: the work of one request, and the beat's housekeeping.
    "enrollment.tasks.process_enrollment_request": (DEFAULT, "request"),
    "enrollment.tasks.come_of_age": (DEFAULT, "request"),
    "access_control.tasks.process_access_request": (DEFAULT, "request"),
    # The requeue beats only read ids and send messages (at most 1,000 each).
    "enrollment.tasks.requeue_stalled_requests": (DEFAULT, "request"),
    "letters.tasks.requeue_stalled_letters": (DEFAULT, "request"),
    "access_control.tasks.requeue_access_requests": (DEFAULT, "request"),
    # On the default queue, so /healthz/ready's "worker" says a default worker is alive.
    "dmp_portal.tasks.worker_heartbeat": (DEFAULT, "request"),
    "access_control.tasks.purge_closed_records": (DEFAULT, "daily"),
    "records.tasks.reveal_due_documents": (DEFAULT, "daily"),
    "enrollment.tasks.queue_majorities": (DEFAULT, "daily"),
    "accounts.tasks.clear_expired_sessions": (DEFAULT, "daily"),
}


def task_routes() -> dict[str, dict[str, str]]:
    return {name: {"queue": queue} for name, (queue, _kind) in TASKS.items()}


def task_annotations() -> dict[str, TimeLimits]:
    return {name: LIMITS[kind] for name, (_queue, kind) in TASKS.items()}
