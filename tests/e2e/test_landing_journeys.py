"""Each role logs in through the login page, lands on its own page, and walks its whole menu.

Every page reached from the menu answers 200 with a heading and passes the inspector's checks
(axe, language, labels, no sideways scroll at 1280 and 375 px); the landing pages are checked
at every width the portal supports, 320, 375, 1280 and 1920 px (``tests/e2e/layout.py``: no
word nor date cut, no sideways scroll, axe at 0).
"""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone
from playwright.sync_api import Page, expect

from access_control.models import AccessRequest, Consent, EmergencyAccess
from accounts.services.keys import ensure_data_key
from tests.accounts.factories import (
    PASSWORD,
    PractitionerProfileFactory,
    StaffFactory,
    UserFactory,
    add_totp,
    totp_token,
)
from tests.e2e.browser import Inspector
from tests.e2e.layout import check_every_width
from tests.e2e.steps import log_in, one_page_pdf
from tests.enrollment.factories import make_beneficiary
from tests.records.factories import add_document


def _walk_menu(page: Page, inspector: Inspector, site: str, role: str, skip=()) -> list[str]:
    """Open every link of the menu, in order: each answers 200, has a heading, and is marked
    as the current page in the menu it shows."""
    hrefs = page.locator("nav.nav-menu a").evaluate_all("(links) => links.map(a => a.pathname)")
    assert hrefs, f"{role}: no menu"
    for href in hrefs:
        if href in skip:
            continue
        response = page.goto(site + href)
        assert response is not None and response.status == 200, href
        expect(page.locator("h1")).to_be_visible()
        expect(page.locator(f'nav.nav-menu a[href="{href}"]')).to_have_attribute(
            "aria-current", "page"
        )
        inspector.check(page, f"{role}{href.replace('/', '-').rstrip('-')}")
    return hrefs


def test_the_patient_lands_on_their_summary_and_reaches_every_page(site, new_page, inspector):
    patient = UserFactory()
    person = make_beneficiary(last_name="Garnier", first_name="Odile", born=date(1950, 2, 3))
    person.patient = patient
    person.save()
    device = add_totp(patient)
    add_document(patient, title="Bilan sanguin de mars", content=one_page_pdf("Bilan"))
    asking = PractitionerProfileFactory(last_name="Lefèvre", specialty="Cardiologie")
    AccessRequest.objects.create(patient=patient, practitioner=asking.user)

    page = inspector.watch(new_page())
    log_in(page, inspector, site, patient.username, PASSWORD, totp_token(device))
    assert page.url == site + "/summary/"
    inspector.check(page, "summary")
    check_every_width(page, "summary")
    expect(page.locator(".whoami")).to_have_text("Odile Garnier")
    expect(page.locator("header")).not_to_contain_text(patient.username)
    expect(page.get_by_role("link", name="Bilan sanguin de mars")).to_be_visible()
    expect(page.get_by_text("Lefèvre")).to_be_visible()

    visited = _walk_menu(page, inspector, site, "patient")
    assert visited == [
        "/summary/",
        "/records/",
        "/records/upload/",
        "/access/",
        "/access/history/",
        "/access/settings/",
        "/accounts/security/",
    ]


def test_the_practitioner_lands_on_their_workspace(site, new_page, inspector):
    profile = PractitionerProfileFactory(first_name="Hugo", last_name="Lambert")
    device = add_totp(profile.user)
    patient = UserFactory()
    person = make_beneficiary(last_name="Roux", first_name="Marcel")
    person.patient = patient
    person.save()
    Consent.objects.create(patient=patient, practitioner=profile.user)
    urgent = UserFactory()
    ensure_data_key(urgent)  # the emergency's reason is sealed with the patient's key
    other = make_beneficiary(last_name="Petit", first_name="Nina")
    other.patient = urgent
    other.save()
    EmergencyAccess.objects.create(
        patient=urgent,
        practitioner=profile.user,
        reason="malaise",
        ends_at=timezone.now() + timedelta(minutes=30),
    )

    page = inspector.watch(new_page())
    log_in(page, inspector, site, profile.user.username, PASSWORD, totp_token(device))
    assert page.url == site + "/pro/workspace/"
    inspector.check(page, "workspace")
    check_every_width(page, "workspace")
    expect(page.locator(".whoami")).to_have_text("Hugo Lambert")
    expect(page.get_by_role("link", name="Roux Marcel")).to_be_visible()
    expect(page.get_by_role("link", name="Petit Nina")).to_be_visible()
    expect(page.get_by_label("Numéro de sécurité sociale du patient", exact=False)).to_be_visible()

    assert _walk_menu(page, inspector, site, "pro") == [
        "/pro/workspace/",
        "/pro/",
        "/accounts/applications/",
        "/accounts/security/",
    ]


def test_staff_land_on_their_page_and_reach_the_admin(site, new_page, inspector):
    staff = StaffFactory(first_name="Nadia", last_name="Roussel")
    device = add_totp(staff)
    page = inspector.watch(new_page())
    log_in(page, inspector, site, staff.username, PASSWORD, totp_token(device))
    assert page.url == site + "/staff/"
    inspector.check(page, "staff")
    check_every_width(page, "staff")
    expect(page.locator(".whoami")).to_have_text("Nadia Roussel")
    expect(page.locator("header")).not_to_contain_text(staff.username)

    # The admin has its own templates (and its own checks, tests/test_admin_*.py): opened in a
    # page of the same session that the inspector does not watch.
    visited = _walk_menu(page, inspector, site, "staff", skip=("/admin/",))
    assert visited == ["/staff/", "/admin/", "/accounts/security/"]
    admin = page.context.new_page()
    response = admin.goto(site + "/admin/")
    assert response is not None and response.status == 200
    expect(admin.locator("h1")).to_be_visible()
    # Logged in with a code, not a passkey: the admin leads to the security page to add or use
    # one first (the rest of the way: tests/e2e/test_passkey_journey.py).
    assert admin.url == site + "/accounts/security/?next=%2Fadmin%2F"
