"""A practitioner's access request, written in the back from the event the door recorded.

The web request does the same work whatever the NIR looked up (see ``services.request_access``):
it records the door's decision and queues one task with that event's id. The task, here, writes
the request and tells the patient only when the door allowed it and no request is pending.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from access_control.audit import Action, AuditEvent, Outcome
from access_control.consent_models import AccessRequest
from access_control.notifications import notify_patient

# A task lost between the commit and the broker is queued again after this long, for a day.
REQUEUE_AFTER = timedelta(minutes=15)
REQUEUE_WITHIN = timedelta(days=1)


def deliver_access_request(event_id: int) -> bool:
    """Write the request the event allowed and queue the patient's e-mail; True when written.

    Idempotent: a refused request, a request already pending for the pair, or a replay of this
    event after the patient answered (a request written or answered since) writes nothing.
    """
    with transaction.atomic():
        event = (
            AuditEvent.objects.select_related("patient")
            .filter(
                pk=event_id,
                action=Action.REQUEST_ACCESS,
                outcome=Outcome.ALLOWED,
                patient__isnull=False,
                actor__isnull=False,
            )
            .first()
        )
        if event is None:
            return False
        pair = {"patient_id": event.patient_id, "practitioner_id": event.actor_id}
        answered = Q(created_at__gte=event.occurred_at) | Q(decided_at__gte=event.occurred_at)
        if AccessRequest.objects.filter(answered, **pair).exists():
            return False
        # One open request per pair (a unique constraint): a parallel task finds this one.
        _request, created = AccessRequest.objects.get_or_create(
            **pair, decided_at=None, defaults={"created_at": event.occurred_at}
        )
        if created:
            notify_patient("request", event.patient)
    return created


def undelivered_access_requests(limit: int = 1000) -> list[int]:
    """The events of allowed requests whose task never ran (lost between the commit and the
    broker): older than ``REQUEUE_AFTER``, within ``REQUEUE_WITHIN``, and no request of the
    pair pending, written or answered since."""
    now = timezone.now()
    pair = {"patient_id": OuterRef("patient_id"), "practitioner_id": OuterRef("actor_id")}
    handled = AccessRequest.objects.filter(
        Q(decided_at=None)
        | Q(created_at__gte=OuterRef("occurred_at"))
        | Q(decided_at__gte=OuterRef("occurred_at")),
        **pair,
    )
    return list(
        AuditEvent.objects.filter(
            action=Action.REQUEST_ACCESS,
            outcome=Outcome.ALLOWED,
            patient__isnull=False,
            actor__isnull=False,
            occurred_at__lt=now - REQUEUE_AFTER,
            occurred_at__gte=now - REQUEUE_WITHIN,
        )
        .filter(~Exists(handled))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
