"""The portal's error pages in Chromium (404, expired form, and 400, 403, 500 raised on purpose):
French, accessible (axe at 0 WCAG 2.1 A/AA violations) and usable from 320 px, with a way back
that works."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from tests.accounts.factories import PASSWORD, UserFactory
from tests.e2e.browser import axe_violations, horizontal_overflow, next_document

NARROWEST: ViewportSize = {"width": 320, "height": 640}


def check_at_320(page: Page, step: str) -> None:
    """Inspector.check covers 1280 and 375 px; the narrowest phones the issue names too."""
    original = page.viewport_size
    page.set_viewport_size(NARROWEST)
    violations = axe_violations(page)
    assert violations == [], f"{step} at 320 px:\n" + json.dumps(violations, ensure_ascii=False)
    assert horizontal_overflow(page) == 0, f"{step}: scrolls sideways at 320 px"
    if original:
        page.set_viewport_size(original)


def test_the_404_page_is_the_portals_and_leads_home(site, new_page, inspector):
    page = inspector.watch(new_page())
    response = page.goto(site + "/nowhere/")
    assert response is not None and response.status == 404
    expect(page).to_have_title("Page introuvable – Dossier médical partagé")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
    inspector.check(page, "404")
    check_at_320(page, "404")

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
    check_at_320(page, "expired")

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
    check_at_320(page, str(status))
    with next_document(page):
        page.get_by_role("link", name="Retour à la page d'accueil").click()
    assert page.url == site + "/"
    inspector.check(page, "home")
