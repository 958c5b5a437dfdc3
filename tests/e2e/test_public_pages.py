"""The public pages, reached with the keyboard from the footer, checked like every page (French,
axe at 0 violations, no sideways scrolling) and at every width the portal supports: 320, 375,
1280 and 1920 px (``tests/e2e/layout.py``)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.layout import check_every_width
from tests.e2e.steps import follow

# Footer link -> the page's heading.
PAGES = {
    "Aide": "Aide et questions fréquentes",
    "Mentions légales": "Mentions légales",
    "Données personnelles": "Données personnelles",
    "Accessibilité : non conforme": "Déclaration d'accessibilité",
}


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
        check_every_width(page, step)
