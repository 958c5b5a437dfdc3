"""Reads of the letters app."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from letters.models import Letter, LetterState


def overdue_letters() -> QuerySet[Letter]:
    """Letters asked for more than the dispatch deadline ago and still not handed over."""
    deadline = timezone.now() - timedelta(days=settings.LETTER_DISPATCH_DEADLINE_DAYS)
    return Letter.objects.filter(
        state__in=[LetterState.REQUESTED, LetterState.RENDERED], requested_at__lt=deadline
    )
