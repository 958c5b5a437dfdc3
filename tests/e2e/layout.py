"""The layout checks every page passes at each width the portal supports (320, 375, 1280 and
1920 px, issue 14's acceptance): no word nor date of a table cut across two lines, no sideways
scroll, every aria-describedby pointing at text, and axe at 0 violations. Shared by the layout
test and the journeys that open the new pages (landing, public, directory)."""

from __future__ import annotations

import json

from playwright.sync_api import Page, ViewportSize

from tests.e2e.browser import axe_violations, horizontal_overflow

WIDTHS: list[ViewportSize] = [
    {"width": 320, "height": 640},
    {"width": 375, "height": 740},
    {"width": 1280, "height": 900},
    {"width": 1920, "height": 1080},
]
# Every word of every table cell (split at spaces and hyphens, where a line may end), and every
# <time>, that the browser laid out on more than one line. A header row hidden for sight (1 px
# wide, the cards of a phone screen) is read by screen readers, not seen: it is left out.
BROKEN = """() => {
    const broken = [];
    const walker = document.createTreeWalker(
        document.querySelector('main'), NodeFilter.SHOW_TEXT,
        {acceptNode: (node) => node.parentElement.closest('.data-table td, .data-table th')
            && node.parentElement.closest('.visually-hidden') === null
            && node.parentElement.closest('thead, caption')?.getBoundingClientRect().width !== 1
            ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT});
    const range = document.createRange();
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (const match of node.data.matchAll(/[^\\s\\-\\u2011]+/g)) {
            range.setStart(node, match.index);
            range.setEnd(node, match.index + match[0].length);
            const lines = new Set(Array.from(range.getClientRects())
                .filter((rect) => rect.width > 0).map((rect) => Math.round(rect.top)));
            if (lines.size > 1) broken.push(match[0]);
        }
    }
    for (const time of document.querySelectorAll('main time')) {
        const lines = new Set(Array.from(time.getClientRects())
            .filter((rect) => rect.width > 0).map((rect) => Math.round(rect.top)));
        if (lines.size > 1) broken.push(time.textContent);
    }
    return broken;
}"""

DANGLING_DESCRIPTIONS = """() => Array.from(document.querySelectorAll('[aria-describedby]'))
    .flatMap((el) => el.getAttribute('aria-describedby').split(/\\s+/).filter(Boolean)
        .filter((id) => {
            const target = document.getElementById(id);
            return !target || !target.textContent.trim();
        }).map((id) => `${el.id || el.tagName}: ${id}`))"""


def broken_words(page: Page) -> list[str]:
    return page.evaluate(BROKEN)


def check_every_width(page: Page, where: str) -> None:
    """At each of ``WIDTHS``: no word or date cut, no sideways scroll, descriptions that exist,
    axe at 0; the viewport is put back as it was."""
    original = page.viewport_size
    for size in WIDTHS:
        page.set_viewport_size(size)
        at = f"{where} at {size['width']} px"
        assert broken_words(page) == [], at
        assert horizontal_overflow(page) == 0, f"{at}: scrolls sideways"
        assert page.evaluate(DANGLING_DESCRIPTIONS) == [], at
        violations = axe_violations(page)
        assert violations == [], f"{at}:\n" + json.dumps(violations, indent=1, ensure_ascii=False)
    if original:
        page.set_viewport_size(original)
