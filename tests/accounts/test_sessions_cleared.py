"""Issue 18, item 5: expired sessions are deleted once a day by the beat."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.sessions import AccountSession
from accounts.tasks import clear_expired_sessions

pytestmark = pytest.mark.django_db


def test_the_daily_task_deletes_expired_sessions_only():
    now = timezone.now()
    AccountSession.objects.create(
        key_hash="a" * 64, session_data="", expire_date=now - timedelta(seconds=1)
    )
    AccountSession.objects.create(
        key_hash="b" * 64, session_data="", expire_date=now + timedelta(hours=1)
    )
    clear_expired_sessions()
    assert list(AccountSession.objects.values_list("key_hash", flat=True)) == ["b" * 64]


def test_the_beat_runs_it_daily():
    [entry] = [
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "accounts.tasks.clear_expired_sessions"
    ]
    assert entry["schedule"] == 86400.0
