"""In the browser: confirm a contact address, forget the password, reset it by the e-mailed link
(the second factor still asked), then change it; every page checked (axe, 320 px, French)."""

from __future__ import annotations

import re

from django.core import mail
from playwright.sync_api import expect

from tests.accounts.factories import (
    PASSWORD,
    UserFactory,
    add_backup_codes,
    add_totp,
    next_totp_token,
    totp_token,
)
from tests.e2e.browser import axe_violations, fill_by_keyboard, horizontal_overflow
from tests.e2e.steps import expect_error, follow, log_in, log_out

RESET_PASSWORD = "une longue phrase de printemps"
CHANGED_PASSWORD = "un autre matin calme sur la digue"


def _link(pattern: str) -> str:
    match = re.search(rf"https?://[^/\s]+({pattern})", str(mail.outbox[-1].body))
    assert match, mail.outbox[-1].body
    return match.group(1)


def test_confirm_an_address_then_reset_and_change_the_password(site, new_page, inspector):
    patient = UserFactory(kind="patient")
    patient.ensure_data_key()
    device = add_totp(patient)
    (backup, *_others) = add_backup_codes(patient)
    page = inspector.watch(new_page())
    log_in(page, inspector, site, patient.username, PASSWORD, totp_token(device))
    inspector.check(page, "home")

    # The contact address: given, then confirmed from the e-mailed link.
    page.goto(site + "/access/settings/")
    inspector.check(page, "settings")
    fill_by_keyboard(page, {"contact_email": "lea.martin@example.fr"})
    expect(page.get_by_test_id("contact-email-status")).to_contain_text("En attente")
    inspector.check(page, "settings-pending")
    mailbox = inspector.watch(new_page())
    mailbox.goto(site + _link(r"/accounts/email/confirm/[\w-]+/"))
    inspector.check(mailbox, "confirm-email")
    follow(mailbox, mailbox.get_by_role("button", name="Confirmer cette adresse"))
    expect(mailbox.get_by_test_id("email-confirmed")).to_be_visible()
    inspector.check(mailbox, "email-confirmed")
    mailbox.goto(site + "/accounts/email/confirm/deja-utilise/")
    inspector.check(mailbox, "confirm-email-invalid")
    log_out(page, inspector)

    # Password forgotten: from the login page.
    page.goto(site + "/accounts/login/")
    follow(page, page.get_by_role("link", name="Mot de passe oublié ?"))
    inspector.check(page, "reset")
    fill_by_keyboard(page, {"email": "lea.martin@example.fr"})
    expect(page.get_by_test_id("reset-answer")).to_be_visible()
    inspector.check(page, "reset-sent")
    link = _link(r"/accounts/password/reset/[\w-]+/")
    page.goto(site + link)
    assert page.url.endswith("/accounts/password/reset/set-password/")  # token out of the bar
    inspector.check(page, "reset-set")
    fill_by_keyboard(page, {"new_password1": RESET_PASSWORD, "new_password2": RESET_PASSWORD})
    expect(page.locator(".messages")).to_contain_text("nouveau mot de passe est enregistré")
    inspector.check(page, "reset-done")
    page.goto(site + link)
    inspector.check(page, "reset-invalid")

    # The second factor is still asked.
    log_in(page, inspector, site, patient.username, RESET_PASSWORD, backup, "login-again")
    inspector.check(page, "home-again")

    # Password change, from the menu's security page: a wrong current password first.
    follow(page, page.get_by_role("link", name="Sécurité du compte"))
    inspector.check(page, "security")
    follow(page, page.get_by_role("link", name="Changer mon mot de passe"))
    inspector.check(page, "change")
    fill_by_keyboard(
        page,
        {
            "old_password": "pas le bon mot de passe",
            "new_password1": CHANGED_PASSWORD,
            "new_password2": CHANGED_PASSWORD,
            "otp_token": next_totp_token(device),
        },
    )
    expect_error(page, "Ce n'est pas votre mot de passe actuel")
    inspector.check(page, "change-refused")
    fill_by_keyboard(
        page,
        {
            "old_password": RESET_PASSWORD,
            "new_password1": CHANGED_PASSWORD,
            "new_password2": CHANGED_PASSWORD,
            "otp_token": next_totp_token(device),
        },
    )
    expect(page.locator(".messages")).to_contain_text("Votre mot de passe est modifié")
    inspector.check(page, "changed")
    patient.refresh_from_db()
    assert patient.check_password(CHANGED_PASSWORD)

    # The narrowest phone the portal supports (the inspector checks 375 px).
    page.set_viewport_size({"width": 320, "height": 640})
    for path in (
        "/accounts/password/change/",
        "/access/settings/",
        "/accounts/password/reset/",
        "/accounts/password/reset/plus-valide/",
        "/accounts/email/confirm/plus-valide/",
    ):
        page.goto(site + path)
        assert horizontal_overflow(page) == 0, f"{path} scrolls sideways at 320 px"
        assert axe_violations(page) == [], path
        inspector.check(page, "narrow")
