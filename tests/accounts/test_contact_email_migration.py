"""access_control migration 0014: the record settings' notification addresses become contact
addresses waiting for their confirmation; active practitioners' directory addresses, confirmed
by their activation, become verified ones."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import ContactEmailChange, User
from accounts.selectors import verified_email
from dmp_portal.crypto.datakeys import create_data_key

BEFORE = [
    ("access_control", "0013_consent_revoked_reason"),
    ("accounts", "0008_contact_email_and_reset_links"),
]


def _bind(instance, data_key):
    instance.get_data_key = lambda: data_key  # as the migration does (historical model)


@pytest.mark.django_db(transaction=True)
def test_addresses_move_unconfirmed_and_directory_addresses_move_confirmed(
    django_capture_on_commit_callbacks,
):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        _check_the_move(executor, django_capture_on_commit_callbacks)
    finally:
        # Forward to every app's latest migration, whatever happened: going back to BEFORE
        # also unapplied accounts' later migrations (the session store), which every test after
        # this one needs.
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def _check_the_move(executor, django_capture_on_commit_callbacks):
    old = executor.loader.project_state(BEFORE).apps
    OldUser = old.get_model("accounts", "User")
    OldSettings = old.get_model("access_control", "RecordSettings")
    key = create_data_key("patient")
    patient = OldUser.objects.create(username="lea", kind="patient", data_key_id=key.pk)
    row = OldSettings(patient_id=patient.pk, contact_email="lea@example.fr")
    _bind(row, key)
    row.save()
    OldUser.objects.create(username="10000000009", kind="practitioner", email="dr@example.fr")
    OldUser.objects.create(
        username="10000000017", kind="practitioner", email="inv@example.fr", is_active=False
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # AFTER, and everything after it

    patient = User.objects.get(username="lea")
    assert verified_email(patient) is None  # never confirmed: nothing is sent to it yet
    change = ContactEmailChange.objects.get(user=patient)
    assert (change.address, change.sent_at) == ("lea@example.fr", None)
    assert verified_email(User.objects.get(username="10000000009")) == "dr@example.fr"
    assert verified_email(User.objects.get(username="10000000017")) is None

    # Run once after the upgrade: each carried-over address gets its confirmation link.
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_email_confirmations", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert [m.to for m in mail.outbox] == [["lea@example.fr"]]
    assert re.search(r"/accounts/email/confirm/[\w-]+/", str(mail.outbox[0].body))
