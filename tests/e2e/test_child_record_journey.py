"""A parent opens their child's record by post, in Chromium (issue 17, item 2): the parent's
own record opened first, the child's number typed on /enrollment/, the letter addressed to the
parent read, the code typed without being logged in (asked to log in first), then logged in
(the child's record linked). Every page shown is checked (axe-core, labels, language, widths)."""

from __future__ import annotations

from playwright.sync_api import expect

from enrollment.models import RegistryRepresentative
from tests.e2e.browser import fill_by_keyboard, next_document
from tests.e2e.steps import ask_and_read_code, fits_320_pixels, follow, set_up_app
from tests.enrollment.factories import make_beneficiary
from tests.enrollment.minors_world import years_ago

PASSWORD = "un long chemin vers la mer"


def test_a_parent_opens_their_childs_record(site, new_page, inspector):
    parent = make_beneficiary(first_name="Claire", last_name="Martin")
    child = make_beneficiary(first_name="Zoé", last_name="Martin", born=years_ago(9))
    RegistryRepresentative.objects.create(child=child, representative=parent)
    page = inspector.watch(new_page())

    # The parent's own record, opened and in use.
    code = ask_and_read_code(page, inspector, site, parent, "creation_code", "enrol")
    page.goto(site + "/enrollment/activate/")
    fill_by_keyboard(page, {"nir": parent.nir, "creation_code": code})
    fill_by_keyboard(page, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    identifier = page.get_by_test_id("identifier").inner_text().strip()
    follow(page, page.get_by_role("main").get_by_role("link", name="Se connecter"))
    inspector.check(page, "login")
    fill_by_keyboard(page, {"username": identifier, "password": PASSWORD})
    set_up_app(page, inspector, "first-setup")

    # The child's number, on another device: the letter to the parent, by name.
    other = inspector.watch(new_page())
    child_code = ask_and_read_code(other, inspector, site, child, "representative_code", "child")
    other.goto(site + "/enrollment/activate/")
    inspector.check(other, "activate-anonymous")
    fill_by_keyboard(other, {"nir": child.nir, "creation_code": child_code})
    inspector.check(other, "log-in-first")
    assert child_code not in other.url
    expect(other.get_by_role("alert")).to_contain_text("Connectez-vous d'abord")
    assert fits_320_pixels(other)
    follow(other, other.get_by_role("link", name="Se connecter, puis revenir sur cette page"))
    assert other.url.endswith("/accounts/login/?next=/enrollment/activate/")
    inspector.check(other, "login-to-come-back")

    # Logged in: the child's record is linked to the parent's account.
    page.goto(site + "/enrollment/activate/")
    fill_by_keyboard(page, {"nir": child.nir, "creation_code": child_code})
    expect(page.get_by_test_id("represented")).to_contain_text("Zoé Martin")
    inspector.check(page, "represented")
    assert fits_320_pixels(page)

    # The page's button opens the child's record: the banner says whose record it is.
    with next_document(page):
        page.get_by_role("button", name="Ouvrir le dossier de Zoé").click()
    expect(page.get_by_test_id("acting-banner")).to_contain_text(
        "Vous agissez pour le dossier de Zoé Martin en tant que représentant légal"
    )
    expect(page.locator("h1")).to_contain_text("Zoé Martin")
    inspector.check(page, "child-record")
