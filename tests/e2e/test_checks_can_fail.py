"""The browser checks catch a page that is broken on purpose; the portal's pages pass them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.browser import (
    PHONE,
    Inspector,
    axe_violations,
    fill_by_keyboard,
    focus_is_visible,
    horizontal_overflow,
    tab_to,
    unlabelled_fields,
)

BROKEN = (Path(__file__).parent / "fixtures" / "broken_form.html").read_text(encoding="utf-8")


@pytest.fixture
def broken_page(new_page):
    page = new_page()
    page.set_content(BROKEN)
    return page


def test_axe_reports_the_broken_page(broken_page):
    found = {violation["id"] for violation in axe_violations(broken_page)}
    # An unlabelled field, a picture with no text alternative, text too pale to read.
    assert {"label", "image-alt", "color-contrast"} <= found


def test_a_placeholder_is_not_a_label(broken_page):
    unlabelled = unlabelled_fields(broken_page)
    assert len(unlabelled) == 2
    assert 'placeholder="Rechercher un document"' in unlabelled[0]


def test_sideways_scrolling_on_a_phone_is_measured(broken_page):
    broken_page.set_viewport_size(PHONE)
    assert horizontal_overflow(broken_page) > 500


def test_an_invisible_focus_is_caught(broken_page):
    broken_page.keyboard.press("Tab")
    assert broken_page.evaluate("() => document.activeElement.name") == "q"
    assert not focus_is_visible(broken_page)
    with pytest.raises(AssertionError, match="focus not visible"):
        tab_to(broken_page, '[name="code"]')


def test_the_inspector_refuses_the_broken_page(broken_page):
    broken_page.evaluate("() => document.querySelector('main p:last-child').remove()")
    with pytest.raises(AssertionError, match="fields without a <label for>"):
        Inspector("broken").check(broken_page, "broken")


def test_english_written_straight_into_a_french_page_is_caught(broken_page):
    # The fixture's last paragraph, "Your documents are kept safe.", is in no catalog.
    with pytest.raises(AssertionError, match=r"not translated into fr: \['Your'\]"):
        Inspector("broken").check(broken_page, "english-text")


def test_an_english_phrase_on_a_french_page_is_caught(broken_page):
    # In an attribute: a screen reader announces it although nobody sees it.
    broken_page.evaluate("() => document.querySelector('main p:last-child').remove()")
    broken_page.evaluate(
        "() => document.querySelector('main').setAttribute('aria-label', 'Find another patient')"
    )
    with pytest.raises(AssertionError, match="not translated into fr.*Find another patient"):
        Inspector("broken").check(broken_page, "english")


def test_the_login_page_passes_every_check(site, new_page, inspector):
    page = inspector.watch(new_page())
    page.goto(site + "/accounts/login/")
    inspector.check(page, "login")
    assert focus_is_visible(page) is False  # nothing focused yet after a navigation
    fill_by_keyboard(page, {"username": "personne", "password": "mauvais mot de passe"})
    assert page.locator(".form-errors, [role=alert]").first.is_visible()
    inspector.check(page, "login-error")
