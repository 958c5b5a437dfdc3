"""Second-factor secrets never sit in the database in clear."""

from __future__ import annotations

import base64

import pytest
from django.db import connection
from django.test import Client

from accounts.devices import BackupCodeDevice, TOTPDevice
from dmp_portal.crypto import DecryptionError
from tests.accounts.factories import PASSWORD, UserFactory, add_backup_codes, add_totp

pytestmark = pytest.mark.django_db


def database_dump() -> bytes:
    """Every row of the accounts tables as PostgreSQL would hand them to a backup."""
    chunks = []
    with connection.cursor() as cursor:
        for table in ("accounts_totpdevice", "accounts_backupcode", "accounts_backupcodedevice"):
            cursor.execute(f"SELECT row_to_json(t)::text FROM {table} t")  # noqa: S608
            chunks += [row[0].encode() for row in cursor.fetchall()]
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608
            for row in cursor.fetchall():
                chunks += [bytes(v) if isinstance(v, memoryview) else str(v).encode() for v in row]
    return b"\n".join(chunks)


def test_totp_secret_is_not_in_the_database_in_clear():
    device = add_totp(UserFactory())
    secret = device.bin_key
    dump = database_dump()
    for form in (
        secret,
        secret.hex().encode(),
        base64.b32encode(secret),
        base64.b32encode(secret).rstrip(b"="),
        base64.b64encode(secret),
    ):
        assert form not in dump
    # And yet the device still verifies tokens: the secret is sealed, not lost.
    assert TOTPDevice.objects.get(pk=device.pk).bin_key == secret


def test_sealed_totp_secret_does_not_open_for_another_user():
    victim = add_totp(UserFactory())
    attacker = add_totp(UserFactory())
    # Someone with database access copies the victim's sealed secret onto their own device.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_totpdevice SET secret = (SELECT secret FROM accounts_totpdevice"
            " WHERE id = %s) WHERE id = %s",
            [victim.pk, attacker.pk],
        )
    with pytest.raises(DecryptionError):
        TOTPDevice.objects.get(pk=attacker.pk).bin_key  # noqa: B018


def test_backup_codes_are_stored_hashed():
    user = UserFactory()
    codes = add_backup_codes(user)
    dump = database_dump()
    for code in codes:
        assert code.encode() not in dump
        assert code.replace("-", "").encode() not in dump
    device = BackupCodeDevice.objects.get(user=user)
    assert device.remaining() == len(codes)


def test_the_secret_shown_by_the_setup_page_is_sealed_too():
    user = UserFactory()
    client = Client()
    client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    shown = client.get("/accounts/2fa/setup/").context["secret"]
    secret = base64.b32decode(shown)
    dump = database_dump()
    for form in (secret, secret.hex().encode(), shown.encode(), base64.b64encode(secret)):
        assert form not in dump
    assert TOTPDevice.objects.get(user=user, confirmed=False).bin_key == secret
