"""A value that fails to open: a security event in the log and a generic page, nothing else."""

from __future__ import annotations

import logging

import pytest
from django.db import connection

from accounts.devices import TOTPDevice
from tests.accounts.factories import UserFactory, password_only_client

pytestmark = pytest.mark.django_db


def test_tampered_secret_shows_a_generic_page_and_logs_a_security_event(caplog):
    user = UserFactory()
    client = password_only_client(user)
    page = client.get("/accounts/2fa/setup/")
    secret = page.context["secret"]
    device = TOTPDevice.objects.get(user=user)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_totpdevice SET secret = overlay(secret placing "
            "'\\x00'::bytea from 30 for 1) WHERE id = %s",
            [device.pk],
        )

    # A new visit of the setup page discards this session's pending secret unread and shows a
    # fresh one; the secret is read back when the person types the code their app shows (and
    # the retry page shows that secret again), so that is where the tampered value is opened.
    with caplog.at_level(logging.ERROR, logger="dmp.security"):
        response = client.post("/accounts/2fa/setup/", {"otp_token": "123456"})
    assert response.status_code == 500
    content = response.content.decode()
    assert "Ces informations ne peuvent pas être affichées" in content
    assert secret not in content and "Traceback" not in content
    messages = [record.getMessage() for record in caplog.records]
    assert any(
        "integrity failure" in message and "/accounts/2fa/setup/" in message for message in messages
    )
    # Nothing was rewritten: the damaged row stays as it was for investigation.
    assert list(TOTPDevice.objects.filter(user=user).values_list("pk", flat=True)) == [device.pk]
