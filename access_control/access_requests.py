"""A practitioner's access request, written in the back from the event the door recorded.

The web request does the same work whatever the NIR looked up (see ``services.request_access``):
it records the door's decision and queues one task with that event's id. The task, here, writes
the request and tells the patient only when the door allowed it and no request is pending.
"""

from __future__ import annotations

from django.db import transaction

from access_control.audit import Action, AuditEvent, Outcome
from access_control.consent_models import AccessRequest
from access_control.notifications import notify_patient


def deliver_access_request(event_id: int) -> bool:
    """Write the request the event allowed and queue the patient's e-mail; True when written.

    Idempotent: a refused request, a request already pending for the pair, or a replay of this
    event after the patient answered (a request of this time or later exists) writes nothing.
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
        if AccessRequest.objects.filter(**pair, created_at__gte=event.occurred_at).exists():
            return False
        # One open request per pair (a unique constraint): a parallel task finds this one.
        _request, created = AccessRequest.objects.get_or_create(
            **pair, decided_at=None, defaults={"created_at": event.occurred_at}
        )
        if created:
            notify_patient("request", event.patient)
    return created
