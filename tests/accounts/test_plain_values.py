"""The second-factor services take plain values (the view reads the request), house rules."""

from __future__ import annotations

import pytest
from django.test import RequestFactory, override_settings

from accounts.devices import BackupCodeDevice, TOTPDevice
from accounts.http import KNOWN_BROWSER_COOKIE, known_browser_markers
from accounts.services import LoginRefused, confirm_totp_device, is_known_browser
from accounts.services.authentication import account_marker
from accounts.services.second_factor import start_totp_setup
from tests.accounts.factories import UserFactory, totp_token

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
