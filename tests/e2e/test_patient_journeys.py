"""A person's journeys in Chromium: from the enrolment form to their own documents.

Every page shown is checked (axe-core WCAG 2.1 A/AA, labels, language, 375 and 1280 pixels,
screenshots in test-artifacts/screens/); the key forms are filled with the keyboard alone.
"""

from __future__ import annotations

import re
from datetime import date

from playwright.sync_api import expect

from enrollment.models import Beneficiary
from letters.models import Letter
from records.models import Document
from tests.accounts.factories import PASSWORD as USER_PASSWORD
from tests.accounts.factories import UserFactory, add_totp, totp_token
from tests.e2e.browser import fill_by_keyboard, next_document, tab_to
from tests.e2e.steps import (
    expect_error,
    follow,
    log_in,
    log_out,
    one_page_pdf,
    totp_from_secret,
)
from tests.enrollment.factories import make_beneficiary, make_nir
from tests.letters.reading import code_from_letter

PASSWORD = "un long chemin vers la mer"


def test_enrol_activate_set_up_two_factors_and_log_in_again(site, new_page, inspector):
    nir = make_nir(born=date(1985, 5, 14))
    person = make_beneficiary(nir=nir)
    page = inspector.watch(new_page())

    # The home page leads to enrolment.
    page.goto(site + "/")
    inspector.check(page, "home")
    follow(
        page,
        page.get_by_role("link", name="Créer votre dossier avec votre numéro de sécurité sociale"),
    )
    inspector.check(page, "enrol")

    # A mistyped confirmation: a French message with the expected format, nothing kept.
    # (Never the same last digit: a NIR whose key ends in 0 would be typed twice alike.)
    mistyped = nir[:-1] + ("1" if nir[-1] != "1" else "2")
    fill_by_keyboard(page, {"nir": nir, "nir_confirmation": mistyped})
    expect_error(page, "Les deux saisies sont différentes")
    inspector.check(page, "enrol-error")
    assert not Letter.objects.filter(subject_uid=person.uid).exists()

    # Typed twice with the spaces of the Vitale card: accepted.
    spaced = " ".join((nir[0], nir[1:3], nir[3:5], nir[5:7], nir[7:10], nir[10:13], nir[13:]))
    fill_by_keyboard(page, {"nir": spaced, "nir_confirmation": nir})
    inspector.check(page, "enrol-sent")
    expect(page.locator("h1")).to_contain_text("demande")

    # The letter was rendered; the person reads the code on it.
    letter = Letter.objects.get(subject_uid=person.uid)
    code = code_from_letter(letter)

    page.goto(site + "/enrollment/activate/")
    inspector.check(page, "activate")
    fill_by_keyboard(page, {"nir": nir, "creation_code": code.lower()})
    inspector.check(page, "activate-password")
    fill_by_keyboard(page, {"new_password1": PASSWORD, "new_password2": PASSWORD + "!"})
    expect_error(page, "ne correspondent pas")
    assert Beneficiary.objects.get(pk=person.pk).patient is None
    inspector.check(page, "activate-password-error")
    fill_by_keyboard(page, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    inspector.check(page, "activated")
    identifier = page.get_by_test_id("identifier").inner_text().strip()
    assert Beneficiary.objects.get(pk=person.pk).patient.username == identifier

    # First login: the second factor must be set up before anything else.
    follow(page, page.get_by_role("main").get_by_role("link", name="Se connecter"))
    inspector.check(page, "first-login")
    fill_by_keyboard(page, {"username": identifier, "password": PASSWORD})
    expect(page).to_have_url(re.compile(r"/accounts/2fa/setup/"))
    inspector.check(page, "totp-setup")
    secret = page.get_by_test_id("totp-secret").inner_text()
    fill_by_keyboard(page, {"otp_token": "000000" if totp_from_secret(secret) != "000000" else "1"})
    expect_error(page, "Ce code n'est pas valide")
    inspector.check(page, "totp-setup-error")
    fill_by_keyboard(page, {"otp_token": totp_from_secret(secret)})
    inspector.check(page, "backup-codes")
    expect(page.get_by_test_id("backup-codes").locator("li")).to_have_count(10)
    follow(page, page.get_by_role("link", name="J'ai conservé mes codes, continuer"))
    inspector.check(page, "after-setup")

    log_out(page, inspector)
    expect(page.get_by_role("button", name="Se déconnecter")).to_have_count(0)

    # Logging in again: the app's next code, since a code works only once.
    log_in(page, inspector, site, identifier, PASSWORD, totp_from_secret(secret, identifier))
    inspector.check(page, "logged-in")
    # The header names the person from the registry, never by their login identifier.
    expect(page.locator(".whoami")).to_have_text("Léa Dupont")
    expect(page.locator("header")).not_to_contain_text(identifier)


def test_upload_find_open_and_hide_a_document(site, new_page, inspector):
    patient = UserFactory()
    device = add_totp(patient)
    page = inspector.watch(new_page())
    log_in(page, inspector, site, patient.username, USER_PASSWORD, totp_token(device))
    inspector.check(page, "home")

    follow(page, page.get_by_role("link", name="Mon dossier"))
    inspector.check(page, "record-empty")
    follow(page, page.get_by_role("link", name="Ajouter un document"))
    inspector.check(page, "upload")

    # No file chosen: a French message, nothing stored, the title typed is kept.
    fill_by_keyboard(page, {"title": "Bilan sanguin de novembre"})
    inspector.check(page, "upload-error")
    assert not Document.objects.filter(patient=patient).exists()
    expect(page.get_by_label("Titre")).to_have_value("Bilan sanguin de novembre")

    report = one_page_pdf("Hémoglobine : 14 g/dL")
    # The file input is the one field a keyboard cannot fill in a headless browser (it opens
    # the system's file chooser); the rest is typed.
    page.set_input_files(
        'input[type="file"]',
        files=[{"name": "bilan.pdf", "mimeType": "application/pdf", "buffer": report}],
    )
    # Typing on a focused list picks the matching choice, as a keyboard user does.
    fill_by_keyboard(page, {"category": "Biologie"}, submit=False)
    expect(page.get_by_label("Catégorie")).to_have_value("biologie")
    tab_to(page, 'main form button[type="submit"]')
    with next_document(page):
        page.keyboard.press("Enter")
    inspector.check(page, "uploaded")
    document = Document.objects.get(patient=patient)

    # Found by a word of its title and by its category; another search finds nothing.
    page.goto(site + "/records/")
    fill_by_keyboard(page, {"q": "sanguin"})
    inspector.check(page, "search")
    expect(page.get_by_role("link", name="Bilan sanguin de novembre")).to_be_visible()
    page.goto(site + "/records/?q=radio")
    inspector.check(page, "search-nothing")
    expect(page.get_by_text("Aucun document ne correspond à votre recherche.")).to_be_visible()
    page.goto(site + "/records/")
    page.get_by_label("Catégorie").select_option(label="Biologie")
    follow(page, page.get_by_role("button", name="Filtrer"))
    inspector.check(page, "filter")
    expect(page.get_by_role("link", name="Bilan sanguin de novembre")).to_be_visible()
    page.locator('[name="date_from"]').fill("31/02/2026")  # no 31 February
    follow(page, page.get_by_role("button", name="Filtrer"))
    expect_error(page, "JJ/MM/AAAA")
    inspector.check(page, "filter-error")

    # Opened: the page and the very bytes that were uploaded.
    page.goto(site + "/records/")
    follow(page, page.get_by_role("link", name="Bilan sanguin de novembre"))
    inspector.check(page, "document")
    content = page.request.get(f"{site}/records/{document.uid}/content/")
    assert content.ok and content.body() == report

    follow(page, page.get_by_role("button", name="Le masquer aux professionnels de santé"))
    inspector.check(page, "hidden")
    expect(page.locator("dd", has_text="Masqué aux professionnels de santé")).to_be_visible()
    expect(page.get_by_role("button", name="Le rendre de nouveau visible")).to_be_visible()
    document.refresh_from_db()
    assert document.hidden_from_practitioners

    # Another patient, signed in on another device, gets the same 404 as for a missing page.
    other = UserFactory()
    other_device = add_totp(other)
    stranger = inspector.watch(new_page())
    log_in(stranger, inspector, site, other.username, USER_PASSWORD, totp_token(other_device))
    inspector.check(stranger, "stranger-home")
    for path in (f"/records/{document.uid}/", f"/records/{document.uid}/content/"):
        refused = stranger.goto(site + path)
        assert refused.status == 404
        expect(stranger.get_by_text("Hémoglobine")).to_have_count(0)
        expect(stranger.get_by_text("Bilan sanguin")).to_have_count(0)
    inspector.check(stranger, "stranger-refused")
