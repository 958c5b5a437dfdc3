"""A patient signed in on two devices sees both sessions and ends the other one with the
keyboard: the other device is signed out at its next page. The page passes axe at 320 px."""

from __future__ import annotations

from playwright.sync_api import ViewportSize, expect

from tests.accounts.factories import PASSWORD, UserFactory, add_totp, next_totp_token
from tests.e2e.browser import DESKTOP, axe_violations, horizontal_overflow
from tests.e2e.steps import follow, log_in

NARROW: ViewportSize = {"width": 320, "height": 640}


def test_the_patient_ends_the_session_of_another_device(site, new_page, inspector):
    patient = UserFactory()
    device = add_totp(patient)
    other = inspector.watch(new_page())
    log_in(other, inspector, site, patient.username, PASSWORD, next_totp_token(device), "other")
    inspector.check(other, "other-home")
    page = inspector.watch(new_page())
    log_in(page, inspector, site, patient.username, PASSWORD, next_totp_token(device))
    inspector.check(page, "home")

    follow(page, page.locator('nav.nav-menu a[href="/accounts/security/"]'))
    inspector.check(page, "security")
    follow(page, page.get_by_role("link", name="Voir et fermer mes sessions ouvertes"))
    inspector.check(page, "sessions")
    expect(page.locator("h1")).to_have_text("Mes sessions")
    sessions = page.get_by_test_id("session")
    expect(sessions).to_have_count(2)
    expect(sessions.first).to_contain_text("cette session")
    expect(sessions.first).to_contain_text("Chrome")
    for size in (NARROW, DESKTOP):
        page.set_viewport_size(size)
        assert axe_violations(page) == [], f"sessions at {size['width']} px"
        assert horizontal_overflow(page) == 0, f"sessions scroll sideways at {size['width']} px"

    follow(page, page.get_by_role("button", name="Mettre fin à cette session"))
    inspector.check(page, "ended")
    expect(page.get_by_role("status")).to_contain_text("La session a été fermée")
    expect(page.get_by_test_id("session")).to_have_count(1)

    other.goto(site + "/records/")
    expect(other).to_have_url(site + "/accounts/login/?next=/records/")
    inspector.check(other, "other-signed-out")
