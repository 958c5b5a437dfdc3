"""The second-factor services take plain values (the view reads the request), house rules."""

from __future__ import annotations

import pytest
from django.test import RequestFactory, override_settings

from accounts.devices import BackupCodeDevice, TOTPDevice
from accounts.http import KNOWN_BROWSER_COOKIE, known_browser_markers
from accounts.services import (
    LoginRefused,
    check_password_step,
    confirm_totp_device,
    is_known_browser,
    verify_second_factor,
)
from accounts.services.authentication import account_marker, remembered_markers
from accounts.services.second_factor import start_totp_setup
from tests.accounts.factories import PASSWORD, UserFactory, add_totp, totp_token

pytestmark = pytest.mark.django_db


def test_an_app_is_confirmed_from_plain_values_and_the_view_completes_the_login():
    user = UserFactory()
    device = start_totp_setup(user, None)
    confirmed = confirm_totp_device(
        user, device.pk, totp_token(device), client_address="192.0.2.7", known_browser=False
    )
    assert confirmed.device.pk == device.pk and len(confirmed.codes) > 0
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    assert BackupCodeDevice.objects.filter(user=user, confirmed=True).exists()


@override_settings(LOGIN_FAILURES_PER_ACCOUNT=2)
def test_wrong_setup_codes_are_throttled_for_the_address_given():
    user = UserFactory()
    device = start_totp_setup(user, None)
    for _ in range(2):
        with pytest.raises(LoginRefused):
            confirm_totp_device(
                user, device.pk, "000000", client_address="192.0.2.7", known_browser=True
            )
    with pytest.raises(LoginRefused, match="essai|attempts|tentatives"):
        confirm_totp_device(
            user, device.pk, totp_token(device), client_address="192.0.2.7", known_browser=True
        )
    # Another address is not slowed down by these guesses: the owner confirms from there.
    confirm_totp_device(
        user, device.pk, totp_token(device), client_address="198.51.100.4", known_browser=True
    )
    assert TOTPDevice.objects.get(pk=device.pk).confirmed


def test_a_known_browser_is_told_from_the_cookies_markers():
    user, other = UserFactory(), UserFactory()
    markers = account_marker(user.get_username().casefold())
    assert is_known_browser(markers, user)
    assert not is_known_browser(markers, other)
    assert not is_known_browser("", user)


def test_a_forged_known_browser_cookie_counts_for_nothing():
    user = UserFactory()
    request = RequestFactory().get("/")
    request.COOKIES[KNOWN_BROWSER_COOKIE] = account_marker(user.get_username().casefold())
    assert known_browser_markers(request) == ""  # not signed by us: no marker at all


@override_settings(LOGIN_FAILURES_PER_ACCOUNT=2)
def test_a_wrong_second_factor_is_refused_and_counted_for_the_address_given():
    user = UserFactory()
    device = add_totp(user)
    for _ in range(2):
        with pytest.raises(LoginRefused, match="code"):
            verify_second_factor(user, "000000", client_address="192.0.2.7", known_browser=True)
    # Past the limit, even the right code is refused from that address...
    with pytest.raises(LoginRefused, match="essai|attempts|tentatives"):
        verify_second_factor(
            user, totp_token(device), client_address="192.0.2.7", known_browser=True
        )
    # ...but not from the owner's: the guesses were counted for the address they came from.
    accepted = verify_second_factor(
        user, totp_token(device), client_address="198.51.100.4", known_browser=True
    )
    assert accepted.pk == device.pk


@override_settings(LOGIN_FAILURES_PER_ACCOUNT=2)
def test_the_password_step_is_checked_and_throttled_from_plain_values():
    user = UserFactory()
    checked = check_password_step(
        f"  {user.username} ",
        PASSWORD,
        client_address="192.0.2.7",
        known_browser_markers="",
    )
    assert checked.pk == user.pk
    for _ in range(2):
        with pytest.raises(LoginRefused, match="Identifiant ou mot de passe incorrect"):
            check_password_step(
                user.username, "wrong", client_address="192.0.2.7", known_browser_markers=""
            )
    with pytest.raises(LoginRefused, match="essai|attempts|tentatives"):
        check_password_step(
            user.username, PASSWORD, client_address="192.0.2.7", known_browser_markers=""
        )
    assert (
        check_password_step(
            user.username, PASSWORD, client_address="198.51.100.4", known_browser_markers=""
        ).pk
        == user.pk
    )


def test_a_browser_remembers_the_latest_account_first_and_five_at_most():
    users = UserFactory.create_batch(6)
    markers = ""
    for user in users:
        markers = remembered_markers(markers, user)
    assert markers.split(",") == [
        account_marker(user.get_username().casefold()) for user in reversed(users[1:])
    ]
    again = remembered_markers(markers, users[3])
    assert again.split(",")[0] == account_marker(users[3].get_username().casefold())
    assert len(again.split(",")) == 5 and len(set(again.split(","))) == 5


@override_settings(SESSION_COOKIE_SECURE=False)
def test_a_complete_login_writes_the_known_browser_cookie(client):
    user = UserFactory()
    device = add_totp(user)
    client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    client.post("/accounts/login/", {"otp_token": totp_token(device)})
    cookie = client.cookies[KNOWN_BROWSER_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and not cookie["secure"]
    assert cookie["max-age"] == 90 * 86400
    request = RequestFactory().get("/")
    request.COOKIES[KNOWN_BROWSER_COOKIE] = cookie.value
    assert is_known_browser(known_browser_markers(request), user)
