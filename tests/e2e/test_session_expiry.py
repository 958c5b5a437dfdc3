"""Two minutes before the idle timeout the patient is warned and can stay (RGAA 13.1)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.accounts.factories import PASSWORD, UserFactory, add_totp, totp_token
from tests.e2e.helpers import log_in


def test_the_warning_comes_before_the_timeout_and_the_person_stays(site, new_page, inspector):
    patient = UserFactory()
    device = add_totp(patient)
    page = inspector.watch(new_page())
    page.clock.install()  # the page's timers run on a clock the test moves
    log_in(page, inspector, site, patient.username, PASSWORD, totp_token(device))
    inspector.check(page, "home")
    page.goto(site + "/records/")
    inspector.check(page, "record")
    warning = page.get_by_role("alertdialog")
    expect(warning).to_be_hidden()

    page.clock.run_for("12:00")  # 12 of the 15 idle minutes: not yet
    expect(warning).to_be_hidden()
    page.clock.run_for("01:05")  # past 13 minutes: two minutes are left
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Votre session va bientôt se terminer")
    expect(warning.get_by_role("button", name="Rester connecté")).to_be_focused()
    inspector.check(page, "warning")

    with page.expect_response("**/accounts/session/extend/") as extended:
        page.keyboard.press("Enter")
    assert extended.value.ok
    expect(warning).to_be_hidden()
    # Still signed in on the server: the record opens without a new login.
    page.goto(site + "/records/")
    expect(page.locator("h1")).to_have_text("Mon dossier")
    inspector.check(page, "still-signed-in")
