"""A practitioner's access request, written in the back from the event the door recorded.

The web request does the same work whatever the NIR looked up (see ``services.request_access``):
it records the door's decision and queues one task with that event's id. The task, here, writes
the request and tells the patient only when the door allowed it and no request is pending, and
when the door still allows it: the task may run up to a day later (the beat), and what the
patient decided meanwhile wins (a block answers the request, as it declines the open ones).
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from access_control import policy
from access_control.models import AccessRequest, Block
from access_control.notifications import NotificationKind, notify_patient
from accounts.models import User
from audit.models import Action, AuditEvent, Outcome
from dmp_portal.queueing import enqueue

# A task lost between the commit and the broker is queued again after this long, for a day.
REQUEUE_AFTER = timedelta(minutes=15)
REQUEUE_WITHIN = timedelta(days=1)


def deliver_access_request(event_id: int) -> bool:
    """Write the request the event allowed and queue the patient's e-mail; True when written.

    Idempotent: a refused request, a request already pending for the pair, or a replay of this
    event after the patient answered (a request written or answered, or a block, since) writes
    nothing. The door is asked again, in this transaction, with the patient's row locked
    (``lock_patients_decisions``, also taken by the patient's own decisions): a block or a
    closed account since the click leaves nothing, and a block cannot slip in between.

    The door's answer here is not recorded: the trail already holds the practitioner's request
    (allowed, with its time and address) and the patient's block after it; a second
    ``request-access`` event, at the task's time and in the practitioner's name, would show
    the patient a request the practitioner never made again.
    """
    with transaction.atomic():
        event = (
            AuditEvent.objects.select_related("patient", "actor__practitioner_profile")
            .filter(
                pk=event_id,
                action=Action.REQUEST_ACCESS,
                outcome=Outcome.ALLOWED,
                patient__isnull=False,
                actor__isnull=False,
            )
            .first()
        )
        if event is None or event.patient is None:  # a request always has its patient
            return False
        lock_patients_decisions(event.patient.pk)
        pair = {"patient_id": event.patient_id, "practitioner_id": event.actor_id}
        answered = Q(created_at__gte=event.occurred_at) | Q(decided_at__gte=event.occurred_at)
        if AccessRequest.objects.filter(answered, **pair).exists():
            return False
        if Block.objects.filter(created_at__gte=event.occurred_at, **pair).exists():
            return False
        if event.actor is None or not event.actor.is_active:  # a request always has its actor
            return False
        if not policy.decide(event.actor, event.patient, Action.REQUEST_ACCESS).allowed:
            return False
        # One open request per pair (a unique constraint): a parallel task finds this one.
        _request, created = AccessRequest.objects.get_or_create(
            **pair, decided_at=None, defaults={"created_at": event.occurred_at}
        )
        if created:
            notify_patient(NotificationKind.REQUEST, event.patient)
    return created


def lock_patients_decisions(patient_id: UUID) -> None:
    """Serialise the patient's own decisions (``services``) and the requests written by their
    task: each takes this lock on the patient's row first (before the audit chain's), so that a
    block never misses a request or a consent written at the same moment, and none is written
    beside a block."""
    User.objects.select_for_update(no_key=True).filter(pk=patient_id).values_list("pk").first()


def undelivered_access_requests(limit: int = 1000) -> list[int]:
    """The events of allowed requests whose task never ran (lost between the commit and the
    broker): older than ``REQUEUE_AFTER``, within ``REQUEUE_WITHIN``, of an active account,
    and no request of the pair pending, written or answered since, nor a block since (the task
    would write nothing, and be queued again every five minutes for a day). The events are
    read through the partial index ``auditevent_allowed_request`` (migration 0009), not the
    whole day of the trail."""
    now = timezone.now()
    pair = {"patient_id": OuterRef("patient_id"), "practitioner_id": OuterRef("actor_id")}
    handled = AccessRequest.objects.filter(
        Q(decided_at=None)
        | Q(created_at__gte=OuterRef("occurred_at"))
        | Q(decided_at__gte=OuterRef("occurred_at")),
        **pair,
    )
    blocked_since = Block.objects.filter(created_at__gte=OuterRef("occurred_at"), **pair)
    return list(
        AuditEvent.objects.filter(
            action=Action.REQUEST_ACCESS,
            outcome=Outcome.ALLOWED,
            patient__isnull=False,
            actor__isnull=False,
            actor__is_active=True,
            occurred_at__lt=now - REQUEUE_AFTER,
            occurred_at__gte=now - REQUEUE_WITHIN,
        )
        .filter(~Exists(handled), ~Exists(blocked_since))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def requeue_access_requests() -> int:
    """Queue again the task of every request it lost (``undelivered_access_requests``); the
    task is idempotent, so one still on its way does no harm. The beat's work, every five
    minutes."""
    undelivered = undelivered_access_requests()
    for event_id in undelivered:
        enqueue("access_control.tasks.process_access_request", event_id)
    return len(undelivered)
