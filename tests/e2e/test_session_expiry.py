"""Two minutes before the idle timeout the patient is warned and can stay (RGAA 13.1)."""

from __future__ import annotations

import time

from playwright.sync_api import expect

from accounts.middleware import SESSION_SEEN
from accounts.models import AccountSession
from accounts.sessions import SessionStore
from tests.accounts.factories import PASSWORD, UserFactory, add_totp, totp_token
from tests.e2e.steps import log_in


def _server_session():
    (session,) = AccountSession.objects.all()
    return session


def _signed_in_on_the_record(site, new_page, inspector):
    patient = UserFactory()
    device = add_totp(patient)
    page = inspector.watch(new_page())
    page.clock.install()  # the page's timers run on a clock the test moves
    log_in(page, inspector, site, patient.username, PASSWORD, totp_token(device))
    inspector.check(page, "home")
    page.goto(site + "/records/")
    inspector.check(page, "record")
    return page


def test_the_warning_comes_before_the_timeout_and_the_person_stays(site, new_page, inspector):
    page = _signed_in_on_the_record(site, new_page, inspector)
    warning = page.get_by_role("alertdialog")
    expect(warning).to_be_hidden()

    page.clock.run_for("12:00")  # 12 of the 15 idle minutes: not yet
    expect(warning).to_be_hidden()
    page.clock.run_for("01:05")  # past 13 minutes: two minutes are left
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Votre session va bientôt se terminer")
    expect(warning.get_by_role("button", name="Rester connecté")).to_be_focused()
    inspector.check(page, "warning")

    # As if the 13 minutes had passed on the server too: the extension must renew the session.
    session = _server_session()
    data = session.get_decoded()
    data[SESSION_SEEN] = time.time() - 13 * 60
    AccountSession.objects.filter(pk=session.pk).update(session_data=SessionStore().encode(data))
    with page.expect_response("**/accounts/session/extend/") as extended:
        page.keyboard.press("Enter")
    assert extended.value.status == 204
    expect(warning).to_be_hidden()
    assert time.time() - _server_session().get_decoded()[SESSION_SEEN] < 60
    page.goto(site + "/records/")
    expect(page.locator("h1")).to_have_text("Mon dossier")
    inspector.check(page, "still-signed-in")


def test_a_session_already_ended_on_the_server_is_not_pretended_extended(site, new_page, inspector):
    page = _signed_in_on_the_record(site, new_page, inspector)
    warning = page.get_by_role("alertdialog")
    page.clock.run_for("13:05")
    expect(warning).to_be_visible()
    AccountSession.objects.all().delete()  # ended on the server (timeout, or logged out elsewhere)

    page.keyboard.press("Enter")
    expect(warning).to_contain_text("Votre session est terminée")
    expect(warning.get_by_role("button", name="Rester connecté")).to_be_hidden()
    expect(warning.get_by_role("link", name="Se reconnecter")).to_be_focused()
    inspector.check(page, "ended")


def test_at_the_timeout_the_warning_says_the_session_has_ended(site, new_page, inspector):
    page = _signed_in_on_the_record(site, new_page, inspector)
    page.clock.run_for("15:01")
    warning = page.get_by_role("alertdialog")
    expect(warning.get_by_role("link", name="Se reconnecter")).to_be_focused()
    inspector.check(page, "timed-out")
