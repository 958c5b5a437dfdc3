"""Builders for the archive and purge tests: a closed record, as the closure pages leave it
(one ``RecordClosure`` row), written directly so that the purge is tested on its own."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from access_control.models import ClosureReason, RecordClosure
from accounts.models import User


def close_record(
    patient: User,
    *,
    closed_at: datetime | None = None,
    archive_until: date | None = None,
    reason: str = ClosureReason.PATIENT,
) -> RecordClosure:
    """Close ``patient``'s record at ``closed_at`` (now), archived until ``archive_until``
    (``RECORD_ARCHIVE_YEARS`` later by default, the last day of the archive period)."""
    closed_at = closed_at or timezone.now()
    if archive_until is None:
        closed_on = timezone.localdate(closed_at)
        archive_until = closed_on.replace(year=closed_on.year + settings.RECORD_ARCHIVE_YEARS)
    return RecordClosure.objects.create(
        patient=patient, reason=reason, closed_at=closed_at, archive_until=archive_until
    )


def days(count: int) -> timedelta:
    return timedelta(days=count)
