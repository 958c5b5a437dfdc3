"""Getting back in by post, in Chromium: a patient who lost their authenticator app and their
backup codes asks on /enrollment/ again, reads the reactivation code in the letter, chooses a
new password, sets up a new app and finds their documents and the reactivation in their
history. Every page shown is checked (axe-core, labels, language, two widths)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from enrollment.models import Beneficiary
from letters.models import Letter
from tests.e2e.browser import DESKTOP, fill_by_keyboard, horizontal_overflow
from tests.e2e.steps import follow, totp_from_secret
from tests.enrollment.factories import make_beneficiary
from tests.letters.reading import code_from_letter, letter_text
from tests.records.factories import add_document

PASSWORD = "un long chemin vers la mer"
NARROWEST = {"width": 320, "height": 640}  # the narrowest phone the pages must fit


def fits_320_pixels(page) -> bool:
    page.set_viewport_size(NARROWEST)
    overflow = horizontal_overflow(page)
    page.set_viewport_size(DESKTOP)
    return overflow == 0


NEW_PASSWORD = "une autre route au bord du lac"


def set_up_app(page, inspector, step: str) -> str:
    """The forced setup of an authenticator app; returns the secret the page showed."""
    expect(page).to_have_url(re.compile(r"/accounts/2fa/setup/"))
    inspector.check(page, step)
    secret = page.get_by_test_id("totp-secret").inner_text()
    fill_by_keyboard(page, {"otp_token": totp_from_secret(secret)})
    inspector.check(page, step + "-codes")
    follow(page, page.get_by_role("link", name="J'ai conservé mes codes, continuer"))
    inspector.check(page, step + "-done")
    return secret


def ask_and_read_code(page, inspector, site: str, person, kind: str, step: str) -> str:
    page.goto(site + "/enrollment/")
    inspector.check(page, step)
    fill_by_keyboard(page, {"nir": person.nir, "nir_confirmation": person.nir})
    inspector.check(page, step + "-sent")
    letter = Letter.objects.filter(subject_uid=person.uid, kind=kind).latest("requested_at")
    return code_from_letter(letter)


def test_lose_everything_and_get_back_in_by_post(site, new_page, inspector):
    person = make_beneficiary()
    page = inspector.watch(new_page())

    # Enrolment, activation, first login with a new app: the record is in use.
    code = ask_and_read_code(page, inspector, site, person, "creation_code", "enrol")
    page.goto(site + "/enrollment/activate/")
    inspector.check(page, "activate")
    fill_by_keyboard(page, {"nir": person.nir, "creation_code": code})
    fill_by_keyboard(page, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    identifier = page.get_by_test_id("identifier").inner_text().strip()
    inspector.check(page, "activated")
    follow(page, page.get_by_role("main").get_by_role("link", name="Se connecter"))
    inspector.check(page, "first-login")
    fill_by_keyboard(page, {"username": identifier, "password": PASSWORD})
    set_up_app(page, inspector, "first-setup")
    patient = Beneficiary.objects.get(pk=person.pk).patient
    add_document(patient, title="Compte rendu de scanner thoracique")
    page.goto(site + "/records/")
    inspector.check(page, "record")
    expect(page.get_by_role("link", name="Compte rendu de scanner thoracique")).to_be_visible()

    # Everything is lost (the app's secret and the backup codes are forgotten); on another
    # device, the person asks again with the same form and the same answer.
    lost = inspector.watch(new_page())
    code = ask_and_read_code(lost, inspector, site, person, "reactivation_code", "ask-again")
    letter = Letter.objects.get(subject_uid=person.uid, kind="reactivation_code")
    assert "réactivation" in letter_text(letter)
    # Until the code is used, the first browser still works.
    page.goto(site + "/records/")
    inspector.check(page, "still-working")
    expect(page.get_by_role("link", name="Compte rendu de scanner thoracique")).to_be_visible()

    lost.goto(site + "/enrollment/activate/")
    fill_by_keyboard(lost, {"nir": person.nir, "creation_code": code})
    inspector.check(lost, "reactivate-password")
    expect(lost.locator("h1")).to_have_text("Choisissez un nouveau mot de passe")
    assert fits_320_pixels(lost)
    fill_by_keyboard(lost, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    inspector.check(lost, "reactivated")
    expect(lost.locator("h1")).to_have_text("Votre accès est réactivé")
    expect(lost.get_by_test_id("identifier")).to_have_text(identifier)
    assert fits_320_pixels(lost)

    # The old browser's session ended with the password.
    page.goto(site + "/records/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    inspector.check(page, "old-session-ended")

    # The new password, then a new app: the same documents as before.
    follow(lost, lost.get_by_role("main").get_by_role("link", name="Se connecter"))
    inspector.check(lost, "login-after-reactivation")
    fill_by_keyboard(lost, {"username": identifier, "password": NEW_PASSWORD})
    set_up_app(lost, inspector, "new-setup")
    lost.goto(site + "/records/")
    inspector.check(lost, "same-record")
    expect(lost.get_by_role("link", name="Compte rendu de scanner thoracique")).to_be_visible()

    # The reactivation, and the letter asked for it, are in the history.
    lost.goto(site + "/access/history/")
    inspector.check(lost, "history")
    history = lost.get_by_role("main")
    expect(history).to_contain_text("Réactivation du compte par courrier")
    expect(history).to_contain_text("Envoi d'un courrier de réactivation")
