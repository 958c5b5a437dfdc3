"""The Django admin opens only to staff who passed their second factor."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from tests.accounts.factories import (
    PASSWORD,
    PractitionerProfileFactory,
    StaffFactory,
    add_totp,
    logged_in_client,
    totp_token,
)
from tests.accounts.passkey_factories import add_passkey

pytestmark = pytest.mark.django_db


def test_admin_refuses_a_staff_session_without_a_verified_device():
    staff = StaffFactory()
    add_totp(staff)
    client = Client()
    # Password only: Django's own login() gives a session without a verified device.
    client.force_login(staff)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    listing = client.get("/admin/accounts/user/")
    assert listing.status_code == 302
    assert staff.username not in listing.content.decode()


def test_admin_opens_to_staff_after_the_second_factor():
    staff = StaffFactory()
    client = logged_in_client(staff)
    response = client.get("/admin/accounts/user/")
    assert response.status_code == 200
    assert staff.username in response.content.decode()


def test_admin_refuses_a_verified_practitioner():
    practitioner = PractitionerProfileFactory().user
    client = logged_in_client(practitioner)
    assert client.get("/pro/workspace/").status_code == 200
    response = client.get("/admin/accounts/user/")
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_admin_user_page_shows_no_second_factor_secret():
    staff = StaffFactory()
    device, _authenticator = add_passkey(staff)
    target = PractitionerProfileFactory().user
    target_device = add_totp(target)
    client = logged_in_client(staff, device)
    page = client.get(f"/admin/accounts/user/{target.pk}/change/")
    assert page.status_code == 200
    content = page.content.decode()
    assert target.practitioner_profile.rpps in content
    assert target_device.base32_secret not in content
    assert target_device.bin_key.hex() not in content


def test_the_admin_login_form_is_not_a_second_unthrottled_door():
    staff = StaffFactory()
    add_totp(staff)
    client = Client()
    response = client.post("/admin/login/", {"username": staff.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2F"
    assert "_auth_user_id" not in client.session
    # Following it leads to the portal's login, which then returns to the admin.
    client.get(response["Location"])
    client.post("/accounts/login/", {"username": staff.username, "password": PASSWORD})
    device = staff.totpdevice_set.get()
    assert client.post("/accounts/login/", {"otp_token": totp_token(device)})["Location"] == (
        "/admin/"
    )


def test_otp_admin_site_itself_refuses_an_unverified_staff_request(rf):
    staff = StaffFactory()
    request = rf.get("/admin/")
    request.user = staff
    request.user.is_verified = lambda: False
    assert admin.site.has_permission(request) is False
    request.user.is_verified = lambda: True
    request.user.otp_device, _authenticator = add_passkey(staff)
    assert admin.site.has_permission(request) is True
    # Verified with a code, not a passkey: refused too (tests/accounts/test_admin_passkeys.py).
    request.user.otp_device = add_totp(staff)
    assert admin.site.has_permission(request) is False
    request.user = AnonymousUser()
    request.user.is_verified = lambda: False
    assert admin.site.has_permission(request) is False


def test_admin_urls_carry_the_uuid_not_a_sequential_number():
    staff = StaffFactory()
    client = logged_in_client(staff)
    listing = client.get("/admin/accounts/user/").content.decode()
    assert f"/admin/accounts/user/{staff.pk}/change/" in listing
    assert len(str(staff.pk)) == 36


def test_admin_logout_ends_the_session_like_the_portal_logout():
    staff = StaffFactory()
    client = logged_in_client(staff)
    response = client.post("/admin/logout/")
    assert response["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    assert client.get("/admin/").status_code == 302
