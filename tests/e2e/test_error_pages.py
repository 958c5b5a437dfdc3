"""The portal's error pages in Chromium (404, expired form, too many enrolment requests, and
400, 403, 500 raised on purpose): French, accessible (axe at 0 WCAG 2.1 A/AA violations), never
scrolling sideways at any width the portal supports (320, 375, 1280 and 1920 px), with a way
back that works."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

from tests.accounts.factories import PASSWORD, UserFactory
from tests.e2e.browser import (
    DESKTOP,
    PHONE,
    axe_violations,
    horizontal_overflow,
    next_document,
)
from tests.e2e.layout import WIDTHS
from tests.enrollment.factories import make_nir


def check_every_width(page: Page, step: str) -> None:
    """No sideways scrolling at any width of layout.WIDTHS, and axe at 0 violations at the
    ones Inspector.check does not cover (it checks 1280 and 375 px)."""
    original = page.viewport_size
    for size in WIDTHS:
        page.set_viewport_size(size)
        width = size["width"]
        assert horizontal_overflow(page) == 0, f"{step}: scrolls sideways at {width} px"
        if size not in (DESKTOP, PHONE):
            violations = axe_violations(page)
            assert violations == [], f"{step} at {width} px:\n" + json.dumps(
                violations, ensure_ascii=False
            )
    if original:
        page.set_viewport_size(original)


def test_the_404_page_is_the_portals_and_leads_home(site, new_page, inspector):
    page = inspector.watch(new_page())
    response = page.goto(site + "/nowhere/")
    assert response is not None and response.status == 404
    expect(page).to_have_title("Page introuvable – Dossier médical partagé")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
    inspector.check(page, "404")
    check_every_width(page, "404")

    with next_document(page):
        page.get_by_role("link", name="Retour à la page d'accueil").click()
    assert page.url == site + "/"
    inspector.check(page, "home")


def test_a_form_sent_after_the_session_ended_says_the_page_expired(site, new_page, inspector):
    user = UserFactory()
    page = inspector.watch(new_page())
    page.goto(site + "/accounts/login/")
    inspector.check(page, "login")
    page.get_by_label("Identifiant de connexion").fill(user.username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.context.clear_cookies()  # as after the browser was closed or the session ended

    with next_document(page):
        page.get_by_role("button", name="Continuer").click()
    expect(page).to_have_title("Cette page a expiré – Dossier médical partagé")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cette page a expiré")
    assert PASSWORD not in page.content()
    inspector.check(page, "expired")
    check_every_width(page, "expired")

    # Logging in again works: the expired page gave the browser a fresh token.
    with next_document(page):
        page.get_by_role("link", name="Se reconnecter").first.click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert page.url == site + "/accounts/login/"
    inspector.check(page, "login-again")
    page.get_by_label("Identifiant de connexion").fill(user.username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    with next_document(page):
        page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Cette page a expiré")
    inspector.check(page, "second-step")


@pytest.mark.urls("tests.error_urls")
@pytest.mark.parametrize(
    ("path", "status", "title"),
    [
        ("/test-errors/bad/", 400, "Demande incorrecte"),
        ("/test-errors/forbidden/", 403, "Accès refusé"),
        ("/test-errors/broken/", 500, "Une erreur est survenue"),
    ],
    ids=["400", "403", "500"],  # the screenshots are named after the test
)
def test_the_other_error_pages_are_accessible(site, new_page, inspector, path, status, title):
    page = inspector.watch(new_page())
    response = page.goto(site + path)
    assert response is not None and response.status == status
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    inspector.check(page, str(status))
    check_every_width(page, str(status))
    with next_document(page):
        page.get_by_role("link", name="Retour à la page d'accueil").click()
    assert page.url == site + "/"
    inspector.check(page, "home")


def test_too_many_enrolment_requests_say_when_to_try_again(site, new_page, inspector, settings):
    settings.ENROLLMENT_REQUESTS_PER_CLIENT_PER_HOUR = 1
    page = inspector.watch(new_page())
    statuses = []
    for _attempt in range(2):
        page.goto(site + "/enrollment/")
        inspector.check(page, "enrolment")
        nir = make_nir()
        page.locator("#id_nir").fill(nir)
        page.locator("#id_nir_confirmation").fill(nir)
        with page.expect_response(lambda answer: answer.request.method == "POST") as answer:
            page.get_by_role("button", name="Demander mon code de création").click()
        statuses.append(answer.value.status)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert statuses == [200, 429]
    expect(page).to_have_title("Veuillez réessayer plus tard – Dossier médical partagé")
    expect(page.get_by_role("heading", level=1)).to_have_text("Veuillez réessayer plus tard")
    expect(page.get_by_text("Erreur 429", exact=True)).to_be_visible()
    expect(page.get_by_text("Réessayez dans 60 minutes.")).to_be_visible()
    inspector.check(page, "429")
    check_every_width(page, "429")
    with next_document(page):
        page.get_by_role("link", name="Retour à la page d'accueil").click()
    assert page.url == site + "/"
    inspector.check(page, "home")
