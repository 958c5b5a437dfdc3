"""Passkeys in a real Chromium, with its virtual authenticator (the WebAuthn domain of the Chrome
DevTools Protocol): a patient adds one at /accounts/security/ and logs in with it; a staff
member logs in with theirs and reaches the admin; a staff member without one adds their first
with the one-time enrolment code an operator gave them.

The live server answers at http://localhost:PORT, a secure context for WebAuthn (browsers
refuse an IP address as a relying party): the portal's accepted origin is set to it.
"""

from __future__ import annotations

import base64

import pytest
from playwright.sync_api import Page, expect

from accounts.models import PasskeyDevice
from audit.models import AuditEvent
from tests.accounts.factories import (
    PASSWORD,
    StaffFactory,
    UserFactory,
    add_backup_codes,
    add_totp,
    next_totp_token,
    totp_token,
)
from tests.accounts.passkey_factories import add_passkey, staff_enrolment_code
from tests.e2e.browser import (
    DESKTOP,
    axe_violations,
    fill_by_keyboard,
    horizontal_overflow,
    next_document,
    tab_to,
)
from tests.e2e.steps import log_in, log_out

PASSKEY_LOGIN = "Se connecter avec une clé d'accès"


@pytest.fixture
def relying_party(site, settings):
    settings.WEBAUTHN_RP_ID = "localhost"
    settings.WEBAUTHN_ORIGINS = [site]
    return site


def virtual_authenticator(page: Page):
    """A platform authenticator (as in a phone or a laptop) that verifies its user at once."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def password_step(page: Page, inspector, site: str, username: str) -> None:
    page.goto(site + "/accounts/login/")
    inspector.check(page, "login")
    fill_by_keyboard(page, {"username": username, "password": PASSWORD})
    inspector.check(page, "login-code")


def use_passkey(page: Page) -> None:
    tab_to(page, page.get_by_role("button", name=PASSKEY_LOGIN))
    with next_document(page):
        page.keyboard.press("Enter")


def test_a_patient_adds_a_passkey_and_logs_in_with_it(relying_party, new_page, inspector):
    site = relying_party
    patient = UserFactory()
    device = add_totp(patient)
    page = inspector.watch(new_page())
    cdp, authenticator_id = virtual_authenticator(page)
    log_in(page, inspector, site, patient.username, PASSWORD, totp_token(device))

    page.goto(site + "/accounts/security/")
    inspector.check(page, "security")
    expect(page.get_by_text("nécessite JavaScript")).to_be_hidden()
    # The second factor again (a code the app shows after the login's), then the authenticator.
    fill_by_keyboard(page, {"name": "Ordinateur portable", "otp_token": next_totp_token(device)})
    expect(page.get_by_test_id("passkeys")).to_contain_text("Ordinateur portable")
    expect(page.locator(".messages")).to_contain_text("Votre clé d'accès a été ajoutée.")
    inspector.check(page, "security-with-passkey")
    page.set_viewport_size({"width": 320, "height": 640})  # the narrowest screen supported
    assert axe_violations(page) == [] and horizontal_overflow(page) == 0
    page.set_viewport_size(DESKTOP)

    (credential,) = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})[
        "credentials"
    ]
    stored = PasskeyDevice.objects.get(user=patient)
    assert base64.b64decode(credential["credentialId"]) == base64.urlsafe_b64decode(
        stored.credential_id + "=" * (-len(stored.credential_id) % 4)
    )

    log_out(page, inspector)
    password_step(page, inspector, site, patient.username)
    use_passkey(page)

    assert page.url == site + "/summary/"
    inspector.check(page, "summary")
    stored.refresh_from_db()
    assert stored.sign_count >= 1 and stored.last_used_at is not None
    assert AuditEvent.objects.filter(
        actor=patient, patient=patient, action="login-passkey", outcome="allowed"
    ).exists()


def test_a_staff_member_logs_in_with_a_passkey_and_reaches_the_admin(
    relying_party, new_page, inspector
):
    site = relying_party
    staff = StaffFactory()
    add_totp(staff)
    _device, software_key = add_passkey(staff, name="Clé de sécurité")
    page = inspector.watch(new_page())
    cdp, authenticator_id = virtual_authenticator(page)
    # The staff member's key, already registered, now in the browser's authenticator.
    cdp.send(
        "WebAuthn.addCredential",
        {
            "authenticatorId": authenticator_id,
            "credential": {
                "credentialId": base64.b64encode(software_key.credential_id).decode("ascii"),
                "isResidentCredential": False,
                "rpId": "localhost",
                "privateKey": software_key.private_key_pkcs8(),
                "signCount": 0,
            },
        },
    )
    password_step(page, inspector, site, staff.username)
    use_passkey(page)
    assert page.url == site + "/staff/"
    inspector.check(page, "staff")

    admin = page.context.new_page()  # the admin's own templates: not the inspector's
    response = admin.goto(site + "/admin/")
    assert response is not None and response.status == 200
    assert admin.url == site + "/admin/"


def test_staff_logged_in_with_a_code_are_led_to_add_a_passkey(relying_party, new_page, inspector):
    site = relying_party
    staff = StaffFactory()
    device = add_totp(staff)
    backup_codes = add_backup_codes(staff)
    page = inspector.watch(new_page())
    cdp, authenticator_id = virtual_authenticator(page)
    log_in(page, inspector, site, staff.username, PASSWORD, totp_token(device))
    inspector.check(page, "staff")
    page.goto(site + "/admin/")
    assert page.url == site + "/accounts/security/?next=%2Fadmin%2F"
    expect(page.get_by_test_id("staff-passkey-notice")).to_be_visible()
    expect(page.get_by_test_id("staff-enrolment-notice")).to_be_visible()
    inspector.check(page, "security-staff")

    # A password and a code (which a look-alike site can relay) are not enough: without the
    # operator's one-time code, nothing is registered.
    fields = {"name": "Clé USB", "otp_token": backup_codes[0], "enrolment_code": "0000-0000-0000"}
    fill_by_keyboard(page, fields, submit=False)
    page.keyboard.press("Enter")
    status = page.locator("[data-passkey-register] [data-passkey-status]")
    expect(status).to_contain_text("Ce code d'enrôlement n'est pas valide")
    inspector.check(page, "security-staff-wrong-enrolment-code")
    assert not PasskeyDevice.objects.filter(user=staff).exists()

    page.reload()
    code = staff_enrolment_code(staff)  # printed by `manage.py issue_passkey_enrolment`
    fill_by_keyboard(
        page, {"name": "Clé USB", "otp_token": next_totp_token(device), "enrolment_code": code}
    )
    expect(page.get_by_test_id("passkeys")).to_contain_text("Clé USB")
    inspector.check(page, "security-staff-with-passkey")
    # This session was opened with a code: confirming it with the new key opens the admin (in
    # a page of the same session that the inspector does not watch: the admin's templates).
    # Chromium's virtual authenticators belong to one tab: the key goes along to the new one.
    admin = page.context.new_page()
    (credential,) = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})[
        "credentials"
    ]
    admin_cdp, admin_authenticator = virtual_authenticator(admin)
    admin_cdp.send(
        "WebAuthn.addCredential", {"authenticatorId": admin_authenticator, "credential": credential}
    )
    admin.goto(site + "/admin/")
    assert admin.url == site + "/accounts/security/?next=%2Fadmin%2F"
    with next_document(admin):
        admin.get_by_role("button", name="Confirmer avec ma clé d'accès").click()
    assert admin.url == site + "/admin/"
