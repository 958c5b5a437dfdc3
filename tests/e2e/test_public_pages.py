"""The public pages, reached with the keyboard from the footer, checked like every page (French,
axe at 0 violations, no sideways scrolling) and, since a phone may be narrower than the
journeys' 375 px, at 320 px too."""

from __future__ import annotations

import json

from playwright.sync_api import Page, expect

from tests.e2e.browser import axe_violations, horizontal_overflow
from tests.e2e.steps import follow

NARROWEST = {"width": 320, "height": 640}

# Footer link -> the page's heading.
PAGES = {
    "Aide": "Aide et questions fréquentes",
    "Mentions légales": "Mentions légales",
    "Données personnelles": "Données personnelles",
    "Accessibilité : non conforme": "Déclaration d'accessibilité",
}


def check_narrowest(page: Page, where: str) -> None:
    original = page.viewport_size
    page.set_viewport_size(NARROWEST)
    violations = axe_violations(page)
    assert violations == [], f"{where} at 320 px:\n" + json.dumps(violations, indent=1)
    assert horizontal_overflow(page) == 0, f"{where}: scrolls sideways at 320 px"
    if original:
        page.set_viewport_size(original)


def test_each_public_page_from_the_footer(site, new_page, inspector):
    page = inspector.watch(new_page())
    page.goto(site + "/")
    inspector.check(page, "home")
    for link, heading in PAGES.items():
        footer = page.locator("footer")
        follow(page, footer.get_by_role("link", name=link, exact=True))
        expect(page.locator("h1")).to_have_text(heading)
        step = page.url.rstrip("/").rsplit("/", 1)[-1]
        inspector.check(page, step)
        check_narrowest(page, step)
