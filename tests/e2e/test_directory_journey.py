"""The patient finds two doctors named Martin, tells them apart and gives access to one.

The page with its search results and its error passes the inspector's checks (axe, language,
labels, no sideways scroll), and the results hold at every width the portal supports: 320, 375,
1280 and 1920 px (``tests/e2e/layout.py``)."""

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
from tests.e2e.layout import check_every_width
from tests.e2e.steps import follow, log_in
from tests.enrollment.factories import make_beneficiary


def test_the_patient_tells_two_martins_apart_and_grants_the_right_one(site, new_page, inspector):
    patient = UserFactory()
    person = make_beneficiary(last_name="Garnier", first_name="Odile")
    person.patient = patient
    person.save()
    device = add_totp(patient)
    PractitionerProfileFactory(last_name="Martin", first_name="Claire", city="Lyon")
    brest = PractitionerProfileFactory(
        user=UserFactory(kind="practitioner", is_active=False),
        last_name="Martin",
        first_name="Hélène",
        specialty="Cardiologie",
        city="Brest",
    )

    page = inspector.watch(new_page())
    log_in(page, inspector, site, patient.username, PASSWORD, totp_token(device))
    inspector.check(page, "summary")
    page.goto(site + "/access/?name=m")
    inspector.check(page, "directory-too-short")
    expect(page.locator(".error-summary")).to_contain_text("au moins 2 lettres")

    page.goto(site + "/access/?name=MARTÍN")
    inspector.check(page, "directory-results")
    check_every_width(page, "directory results")
    button = page.get_by_role(
        "button",
        name=f"Donner accès à Dr Hélène Martin, médecin (cardiologie), Brest, RPPS {brest.rpps}",
    )
    expect(button).to_be_visible()
    expect(
        page.get_by_role("button", name="Donner accès à Dr Claire Martin", exact=False)
    ).to_be_visible()
    follow(page, button)
    expect(page.locator(".messages")).to_contain_text("Accès accordé.")
    inspector.check(page, "directory-granted")
    consent = Consent.objects.select_related("practitioner__practitioner_profile").get(
        patient=patient
    )
    assert consent.practitioner.practitioner_profile.rpps == brest.rpps

    # The readers' table names her as the search did: the two Martins stay apart there too.
    readers = page.get_by_test_id("readers")
    expect(readers).to_contain_text(
        f"Dr Hélène Martin, Médecin (Cardiologie), Brest, RPPS {brest.rpps}"
    )
    expect(readers).not_to_contain_text("Claire")

    # A first name alone finds her; once blocked, she is found marked « Bloqué », with the way
    # to lift the block and no grant button.
    page.goto(site + "/access/?name=helene")
    inspector.check(page, "directory-first-name")
    expect(page.get_by_test_id("directory-results")).to_contain_text("Dr Hélène Martin")
    page.goto(site + "/access/")
    fill_by_keyboard(page, {"block-rpps": brest.rpps})
    expect(page.locator(".messages")).to_contain_text("bloqué")
    page.goto(site + "/access/?name=helene")
    inspector.check(page, "directory-blocked")
    check_every_width(page, "directory result of a blocked professional")
    results = page.get_by_test_id("directory-results")
    expect(results).to_contain_text("Bloqué : vous avez bloqué ce professionnel")
    expect(results.get_by_role("button", name="Donner accès", exact=False)).to_have_count(0)
    expect(
        results.get_by_role("button", name="Lever le blocage de Dr Hélène Martin", exact=False)
    ).to_be_visible()
