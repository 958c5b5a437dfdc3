"""One approval lasts OAUTH_APPROVAL_MAX_DAYS at most (issue 19, review « later » 1): the
rotating refresh tokens slide their 12 hours at each refresh, but a family older than the
setting, counted from its first token, gets invalid_grant and the practitioner approves again."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from accounts.applications import connected_applications, has_live_access
from dmp_portal.settings.oauth import approval_max_days
from tests.accounts.factories import PractitionerProfileFactory, logged_in_client
from tests.accounts.oauth_factories import (
    approve,
    connect,
    exchange,
    make_application,
    pkce_pair,
    token_request,
)

pytestmark = pytest.mark.django_db


def _refresh(registered, refresh_token: str):
    application, secret = registered
    return token_request(
        application, secret, grant_type="refresh_token", refresh_token=refresh_token
    )


def _approved_tokens(registered) -> dict:
    return connect(logged_in_client(PractitionerProfileFactory.create().user), registered)


def test_the_default_is_thirty_days_and_a_bad_value_is_refused_at_start():
    assert django_settings.OAUTH_APPROVAL_MAX_DAYS == 30
    assert approval_max_days(1) == 1
    for bad in (0, -3, 366):
        with pytest.raises(ImproperlyConfigured, match="from 1 to 365"):
            approval_max_days(bad)


def test_a_family_refreshed_every_few_hours_ends_with_its_approvals_age(settings):
    settings.OAUTH_APPROVAL_MAX_DAYS = 2
    registered = make_application()
    start = timezone.now()
    tokens = _approved_tokens(registered)
    # Every 11 hours, within the refresh token's own 12 hours: each refresh gives a new pair.
    for hours in (11, 22, 33, 44):
        with time_machine.travel(start + timedelta(hours=hours), tick=False):
            response = _refresh(registered, tokens["refresh_token"])
            assert response.status_code == 200, (hours, response.content)
            tokens = response.json()
    # The token in hand is 4 hours old, but the approval it comes from is 2 days old.
    with time_machine.travel(start + timedelta(hours=48, minutes=1), tick=False):
        response = _refresh(registered, tokens["refresh_token"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_a_new_approval_starts_a_new_family(settings):
    settings.OAUTH_APPROVAL_MAX_DAYS = 1
    registered = make_application()
    start = timezone.now()
    old = _approved_tokens(registered)
    with time_machine.travel(start + timedelta(hours=11), tick=False):
        old = _refresh(registered, old["refresh_token"]).json()
    with time_machine.travel(start + timedelta(hours=20), tick=False):
        fresh = _approved_tokens(registered)
    with time_machine.travel(start + timedelta(hours=22), tick=False):
        old = _refresh(registered, old["refresh_token"]).json()
    # Both refresh tokens are a few hours old; only the second approval is less than a day old.
    with time_machine.travel(start + timedelta(hours=25), tick=False):
        assert _refresh(registered, old["refresh_token"]).status_code == 400
        assert _refresh(registered, fresh["refresh_token"]).status_code == 200


def test_an_expired_approval_leaves_the_connected_applications_page(settings):
    settings.OAUTH_APPROVAL_MAX_DAYS = 1
    registered = make_application(name="Cabinet Plus")
    practitioner = PractitionerProfileFactory.create().user
    client = logged_in_client(practitioner)
    verifier, challenge = pkce_pair()
    code = approve(client, registered[0], challenge)
    start = timezone.now()
    tokens = exchange(*registered, code, verifier).json()
    with time_machine.travel(start + timedelta(hours=11), tick=False):
        tokens = _refresh(registered, tokens["refresh_token"]).json()
    with time_machine.travel(start + timedelta(hours=22), tick=False):
        tokens = _refresh(registered, tokens["refresh_token"]).json()
        assert [app.name for app in connected_applications(practitioner)] == ["Cabinet Plus"]
    # The refresh token is 3 hours old, its access token expired: only the approval's age
    # makes it unusable, and the page no longer lists the application.
    with time_machine.travel(start + timedelta(hours=25), tick=False):
        assert connected_applications(practitioner) == []
        assert not has_live_access(practitioner, registered[0].pk)
