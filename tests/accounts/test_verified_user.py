"""The session's second factor checked at every request at no round trip of its own (issue 20,
item 1: ``accounts.middleware.VerifiedUserMiddleware``, django-otp's ``OTPMiddleware`` whose
device check rides on the user's query): a kept session cookie loses its verification at the
very next request when its device is deleted, disabled (unconfirmed) or given to another
account, whichever kind of device it was (authenticator app, backup codes, passkey); it is
ended when the password changes or the account is deactivated; and a verified request sees the
very device it was verified with, as with django-otp's own middleware."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import SESSION_KEY
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import is_verified
from django_otp.models import Device

from accounts.devices import BackupCodeDevice
from accounts.middleware import SessionDevice, _device
from accounts.models import User
from tests.accounts.factories import UserFactory, add_totp, logged_in_client
from tests.accounts.passkey_factories import add_passkey

pytestmark = pytest.mark.django_db

PAGE = "/records/"  # a patient's page behind the second-factor gate
LOGIN = "/accounts/login/"


def _totp(user: User) -> Device:
    return add_totp(user)


def _backup_codes(user: User) -> Device:
    device = BackupCodeDevice.objects.create(user=user, name="backup", confirmed=True)
    device.regenerate(2)
    return device


def _passkey(user: User) -> Device:
    return add_passkey(user)[0]


@pytest.fixture(params=[_totp, _backup_codes, _passkey], ids=["totp", "backup", "passkey"])
def signed_in(request) -> tuple[User, Device, Client]:
    """A patient whose session was verified with one kind of device, the cookie kept."""
    patient = UserFactory.create()
    device = request.param(patient)
    client = logged_in_client(patient, device)
    response = client.get(PAGE)
    assert response.status_code == 200
    return patient, device, client


def _session_device(client: Client) -> str | None:
    return client.session.get(DEVICE_ID_SESSION_KEY)


def test_a_verified_request_sees_its_own_device(signed_in):
    patient, device, client = signed_in
    user = client.get(PAGE).wsgi_request.user
    assert user.pk == patient.pk and user.is_authenticated
    # django-otp's own is_verified (« otp_device is not None »), not a replacement.
    assert user.is_verified() and user.is_verified.func is is_verified
    # The device, loaded when read: the very row, of its own class (a passkey resists phishing).
    with CaptureQueriesContext(connection) as queries:
        assert isinstance(user.otp_device, type(device)) and user.otp_device.pk == device.pk
    assert len(queries.captured_queries) == 1
    device_read = user.otp_device
    assert device_read.user_id == patient.pk and device_read.confirmed
    resists = getattr(user.otp_device, "phishing_resistant", False)
    assert resists == (device.model_label() == "accounts.passkeydevice")


def _refused_at_next_request(client: Client) -> None:
    """The kept cookie is still signed in by password, no longer verified: the gate sends it
    to the login page, and the session forgets the device for good."""
    response = client.get(PAGE)
    assert response.status_code == 302 and response["Location"] == LOGIN
    user: Any = response.wsgi_request.user  # as django-otp's middleware dresses it
    assert user.is_authenticated and not user.is_verified() and user.otp_device is None
    assert _session_device(client) is None
    assert client.get(PAGE).status_code == 302


def test_a_deleted_device_ends_verification_at_the_next_request(signed_in):
    _patient, device, client = signed_in
    assert _session_device(client) == device.persistent_id
    type(device).objects.filter(pk=device.pk).delete()
    _refused_at_next_request(client)


def test_a_disabled_device_ends_verification_at_the_next_request(signed_in):
    _patient, device, client = signed_in
    type(device).objects.filter(pk=device.pk).update(confirmed=False)
    _refused_at_next_request(client)


def test_a_device_given_to_another_account_ends_verification_at_the_next_request(signed_in):
    _patient, device, client = signed_in
    other = UserFactory.create()
    type(device).objects.filter(pk=device.pk).update(user=other)
    _refused_at_next_request(client)


def test_a_changed_password_ends_the_session(signed_in):
    patient, _device, client = signed_in
    patient.set_password("another horse battery staple")
    patient.save()
    response = client.get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith(f"{LOGIN}?next=")
    assert not response.wsgi_request.user.is_authenticated
    assert SESSION_KEY not in client.session and _session_device(client) is None


def test_a_deactivated_account_is_signed_out(signed_in):
    patient, _device, client = signed_in
    User.objects.filter(pk=patient.pk).update(is_active=False)
    response = client.get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith(f"{LOGIN}?next=")
    assert not response.wsgi_request.user.is_authenticated


def test_a_session_naming_another_accounts_device_is_not_verified():
    """A session's data naming a device of someone else (not a state the login writes, but the
    check must not rest on it): refused like a device given away."""
    patient, other = UserFactory.create(), UserFactory.create()
    client = logged_in_client(patient)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = add_totp(other).persistent_id
    session.save()
    _refused_at_next_request(client)


@pytest.mark.parametrize("persistent_id", ["accounts.totpdevice/x", "nope.nothing/1", "junk"])
def test_a_malformed_device_id_is_not_verified(persistent_id):
    client = logged_in_client(UserFactory.create())
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = persistent_id
    session.save()
    response = client.get(PAGE)
    assert response.status_code == 302 and not response.wsgi_request.user.is_verified()


def test_the_user_and_the_device_check_cost_one_query(signed_in):
    """The session, then the user with the device's check: no query of the device table
    unless a page reads the device."""
    _patient, device, client = signed_in
    with CaptureQueriesContext(connection) as queries:
        response = client.get(PAGE)
        assert response.wsgi_request.user.is_verified()
    statements = [query["sql"] for query in queries.captured_queries]
    device_table = f'"{type(device)._meta.db_table}"'
    [user_query] = [sql for sql in statements if f"EXISTS (SELECT 1 FROM {device_table}" in sql]
    assert user_query.startswith('SELECT "accounts_user".*, EXISTS')
    assert re.search(r'FROM "accounts_user" WHERE "accounts_user"\."id" = \S+$', user_query)
    assert not [sql for sql in statements if sql.startswith(f"SELECT {device_table}")]


def test_a_device_disabled_after_the_check_is_not_handed_to_a_page(signed_in):
    # The device itself is loaded only when a page reads it, after the request's check: one
    # disabled in between is not handed back (django-otp asks for a confirmed device too).
    user, device, _client = signed_in
    named = SessionDevice(type(device), device.pk, user.pk)
    assert _device(named) == device
    type(device).objects.filter(pk=device.pk).update(confirmed=False)
    assert _device(named) is None
