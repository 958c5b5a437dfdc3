"""French first, whatever the browser's language; English everywhere once the person picks it."""

from __future__ import annotations

from playwright.sync_api import expect

from access_control.models import Consent
from tests.accounts.factories import (
    PASSWORD,
    PractitionerProfileFactory,
    UserFactory,
    add_totp,
    totp_token,
)
from tests.e2e.browser import fill_by_keyboard
from tests.e2e.steps import expect_error, follow, log_in
from tests.enrollment.factories import make_beneficiary
from tests.records.factories import add_document


def test_an_english_browser_gets_french_then_english_when_chosen(site, new_page, inspector):
    patient = UserFactory()
    device = add_totp(patient)
    add_document(patient, title="Compte rendu d'IRM")
    page = inspector.watch(new_page(locale="en-GB"))

    # The browser asks for English; the portal answers in French until the person chooses.
    log_in(page, inspector, site, patient.username, PASSWORD, totp_token(device))
    assert page.evaluate("() => document.documentElement.lang") == "fr"
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()

    follow(page, page.get_by_role("button", name="English"))
    inspector.check(page, "english-home")
    assert page.evaluate("() => document.documentElement.lang") == "en"
    expect(page.get_by_role("button", name="Log out")).to_be_visible()

    # Every page stays in English, dates the English way, categories translated;
    # the inspector fails a page that still shows a French sentence of the catalog.
    for path, heading in (
        ("/records/", "My record"),
        ("/records/upload/", "Add a document to my record"),
        ("/access/", "Who may read my record"),
        ("/access/history/", "Access history"),
        ("/access/settings/", "My record's settings"),
    ):
        page.goto(site + path)
        inspector.check(page, "english" + path.replace("/", "-").rstrip("-"))
        expect(page.locator("h1")).to_contain_text(heading)
    page.goto(site + "/records/")
    expect(page.get_by_role("cell", name="Medical imaging")).to_be_visible()
    expect(page.get_by_role("cell", name="12/03/2026")).to_be_visible()  # day first, as typed

    follow(page, page.get_by_role("button", name="Français"))
    inspector.check(page, "back-to-french")
    expect(page.locator("h1")).to_have_text("Mon dossier")
    expect(page.get_by_role("cell", name="12/03/2026")).to_be_visible()


def test_english_on_the_enrolment_and_practitioner_pages_errors_included(site, new_page, inspector):
    """Anonymous enrolment, then a practitioner's search and a consented record, in English,
    each with a form error: the inspector fails on any French sentence of the catalog."""
    page = inspector.watch(new_page(locale="en-GB"))
    page.goto(site + "/enrollment/")
    follow(page, page.get_by_role("button", name="English"))
    inspector.check(page, "enrol-english")
    fill_by_keyboard(page, {"nir": "1 85 05", "nir_confirmation": "1 85 05"})
    expect_error(page, "15 characters")
    inspector.check(page, "enrol-error-english")

    profile = PractitionerProfileFactory()
    device = add_totp(profile.user)
    patient = UserFactory()
    person = make_beneficiary()
    type(person).objects.filter(pk=person.pk).update(patient=patient)
    add_document(patient, title="Compte rendu d'IRM")
    Consent.objects.create(patient=patient, practitioner=profile.user)

    log_in(page, inspector, site, profile.user.username, PASSWORD, totp_token(device))
    inspector.check(page, "pro-home-english")
    page.goto(site + "/pro/")
    fill_by_keyboard(page, {"nir": "12345"})
    expect_error(page, "15 characters")
    inspector.check(page, "pro-search-error-english")
    fill_by_keyboard(page, {"nir": person.nir})
    inspector.check(page, "pro-search-english")
    follow(page, page.get_by_role("link", name="Open the record"))
    inspector.check(page, "pro-record-english")
    expect(page.locator("h1")).to_have_text("Patient's record")
    expect(page.get_by_text("Date of birth")).to_be_visible()
    expect(page.get_by_text("14/05/1985")).to_be_visible()  # day first in English too
