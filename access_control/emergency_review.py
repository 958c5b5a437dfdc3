"""Staff review of emergency accesses ("bris de glace"): who closed which one, on the record.

Marking an emergency reviewed is a statement about a patient's record (an emergency reading of
it was looked at and accepted). It used to be a bare UPDATE from the admin, so nothing said who
reviewed it. Now each review passes the door (``authorize_staff``, ``REVIEW_EMERGENCY``) and is
recorded on the patient's chain naming the staff member, before anything changes; the patient's
history shows it.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from access_control import policy
from access_control.models import EmergencyAccess
from accounts.models import User
from audit.models import Action, patient_chain_key


class ReviewRefused(Exception):
    """The door refused the reviewer: nothing was marked, the refusals are recorded."""


def mark_reviewed(staff: User, emergency_ids: list[int], *, client_address: str = "") -> int:
    """Mark the waiting emergencies among ``emergency_ids`` reviewed by ``staff``.

    One event per emergency, on its patient's chain; chains are locked in key order, so two
    reviewers never deadlock. An emergency already reviewed is left alone and records nothing
    (its review is already on the chain). When the door refuses any of them, nothing changes,
    the refusals commit and ``ReviewRefused`` is raised. Returns how many were marked.
    """
    with transaction.atomic():
        waiting = sorted(
            EmergencyAccess.objects.select_for_update(of=("self",))
            .select_related("patient")
            .filter(pk__in=emergency_ids, reviewed_at__isnull=True),
            key=lambda access: (patient_chain_key(access.patient_id), access.pk),
        )
        allowed = True
        for access in waiting:
            decision = policy.authorize_staff(
                staff,
                Action.REVIEW_EMERGENCY,
                patient=access.patient,
                client_address=client_address,
            )
            allowed = allowed and decision.allowed
        if allowed and waiting:
            EmergencyAccess.objects.filter(pk__in=[access.pk for access in waiting]).update(
                reviewed_at=timezone.now(), reviewed_by=staff
            )
    if not allowed:
        raise ReviewRefused
    return len(waiting)
