"""What every page a journey visits must pass, in a real Chromium.

The checks are plain functions returning what they found, so that ``test_checks_can_fail``
can show each of them catching a deliberately broken page; ``Inspector.check`` asserts on
them for the portal's own pages.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from playwright.sync_api import Locator, Page, ViewportSize
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

ROOT = Path(__file__).resolve().parents[2]
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "screens"
CATALOG = ROOT / "locale" / "fr" / "LC_MESSAGES" / "django.po"

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps calling Google's hosts, which this
# machine's closed network refuses; the sandbox needs user namespaces that root in CI lacks.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE: ViewportSize = {"width": 375, "height": 740}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
# RGAA 4 follows WCAG 2.1 A and AA: exactly these axe rule sets, no "best practice" extras.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page: Page) -> list[dict]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now.

    The script is evaluated rather than added as a <script> tag: the portal's CSP allows no
    script that is not its own, which is the point of the CSP.
    """
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        AXE_TAGS,
    )
    return [
        {
            "id": violation["id"],
            "help": violation["help"],
            "targets": [node["target"] for node in violation["nodes"]][:5],
        }
        for violation in result["violations"]
    ]


def unlabelled_fields(page: Page) -> list[str]:
    """Inputs a person cannot name: no <label for> pointing at them (a placeholder is not one)."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('input, select, textarea'))
            .filter((el) => !['hidden', 'submit', 'button', 'reset'].includes(el.type))
            .filter((el) => !el.id || !document.querySelector(`label[for="${CSS.escape(el.id)}"]`))
            .map((el) => el.outerHTML.slice(0, 120))"""
    )


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the window (0 when nothing scrolls sideways)."""
    return page.evaluate(
        "() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth)"
    )


FOCUS_VISIBLE = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return false;
    const style = getComputedStyle(el);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    return outline || (style.boxShadow && style.boxShadow !== 'none');
}"""


def focus_is_visible(page: Page, settle_ms: int = 0) -> bool:
    """Whether the focused element shows a focus indicator (an outline or a ring).

    ``settle_ms`` gives the browser that long to finish moving the focus and restyling.
    """
    if not settle_ms:
        return page.evaluate(FOCUS_VISIBLE)
    try:
        page.wait_for_function(FOCUS_VISIBLE, timeout=settle_ms)
    except PlaywrightTimeoutError:
        return False
    return True


def _unescape(po_string: str) -> str:
    return po_string.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


@lru_cache(maxsize=2)
def _phrases(language: str) -> list[str]:
    """Catalog phrases that must not show on a page in the other language.

    From the French catalog: English msgids (for a French page) or French msgstrs (for an
    English page) of at least three words that differ between the languages. Shorter ones
    ("Date", "Documents") are spelt the same in both and would prove nothing.
    """
    # Unwrapped first: long entries span several lines in the catalog file.
    text = subprocess.run(
        ["msgcat", "--no-wrap", str(CATALOG)], capture_output=True, text=True, check=True
    ).stdout
    pairs = re.findall(r'^msgid "(.+)"\nmsgstr "(.+)"$', text, flags=re.MULTILINE)
    pairs = [(_unescape(english), _unescape(french)) for english, french in pairs]
    chosen = [english if language == "fr" else french for english, french in pairs]
    return sorted(
        {
            phrase
            for phrase, (english, french) in zip(chosen, pairs, strict=True)
            if english != french and len(phrase.split()) >= 3 and "%" not in phrase
        }
    )


# What a person reads or hears: the text, the page title, and the texts that live in attributes
# (screen readers announce aria-label, alt and title; phones show data-label before each cell).
READABLE_TEXT = """() => [
    document.title,
    document.body.innerText,
    ...Array.from(document.querySelectorAll('*')).flatMap((el) =>
        ['aria-label', 'alt', 'title', 'placeholder', 'data-label']
            .map((name) => el.getAttribute(name)).filter(Boolean)),
].join('\\n')"""
# English words that no French sentence of the portal uses: they reveal text written straight
# into a template, which the catalog comparison cannot know about.
ENGLISH_WORD = re.compile(r"\b(?:the|The|your|Your|you|You|and|with|please|Please|this|This)\b")


@dataclass
class Inspector:
    """Runs the checks on each page of a journey and remembers which addresses it checked."""

    name: str
    checked: set[str] = field(default_factory=set)
    visited: set[str] = field(default_factory=set)
    shots: int = 0

    def watch(self, page: Page) -> Page:
        """Remember every address the page's main frame shows, for the final comparison."""

        def on_navigation(frame) -> None:
            if frame == page.main_frame and frame.url.startswith("http"):
                self.visited.add(_path(frame.url))

        page.on("framenavigated", on_navigation)
        return page

    def unchecked(self) -> list[str]:
        return sorted(self.visited - self.checked)

    def check(self, page: Page, step: str) -> None:
        settle(page)
        language = page.evaluate("() => document.documentElement.lang")
        where = f"{self.name}/{step} ({page.url})"
        assert language in ("fr", "en"), f"{where}: <html lang> is {language!r}"
        visible = page.evaluate(READABLE_TEXT)
        wrong_language = [p for p in _phrases(language) if p in visible]
        if language == "fr":
            wrong_language += sorted(set(ENGLISH_WORD.findall(visible)))
        assert wrong_language == [], f"{where}: not translated into {language}: {wrong_language}"
        assert unlabelled_fields(page) == [], f"{where}: fields without a <label for>"
        original = page.viewport_size
        for size in (DESKTOP, PHONE):
            page.set_viewport_size(size)
            violations = axe_violations(page)
            assert violations == [], f"{where} at {size['width']} px:\n" + json.dumps(
                violations, indent=1, ensure_ascii=False
            )
            assert horizontal_overflow(page) == 0, f"{where}: scrolls sideways at {size} px"
            self.shots += 1
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(
                path=ARTIFACTS / f"{self.name}-{self.shots:02d}-{step}-{size['width']}.png",
                full_page=True,
            )
        page.set_viewport_size(original or DESKTOP)
        self.checked.add(_path(page.url))


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url).split("#", 1)[0]


def settle(page: Page) -> None:
    """Wait until the document is parsed.

    Not Playwright's "load" or "domcontentloaded" states: they wait for every frame, and the
    frame of Chromium's PDF viewer on a document page does not always report them.
    """
    page.wait_for_function("() => document.readyState !== 'loading'")


@contextmanager
def next_document(page: Page) -> Iterator[None]:
    """Wait, after the block, for the page that replaced the current one to be parsed.

    A mark left on the old document tells them apart, even when a form's answer redirects to
    the same address (Playwright's navigation events missed that case on the document page).
    """
    page.evaluate("() => { window.__previousDocument = true; }")
    yield
    page.wait_for_function("() => !window.__previousDocument && document.readyState !== 'loading'")


def tab_to(page: Page, target: str | Locator, limit: int = 80) -> None:
    """Press Tab until ``target`` has the focus, checking that every stop shows its focus."""
    if isinstance(target, str):
        target = page.locator(target)
    for _ in range(limit):
        page.keyboard.press("Tab")
        # Inside a frame (the PDF viewer) the focus ring is drawn by the frame's own page,
        # which this document cannot inspect.
        visible = focus_is_visible(page, settle_ms=1000) or page.evaluate(
            "() => document.activeElement.tagName === 'IFRAME'"
        )
        if not visible:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=ARTIFACTS / "focus-not-visible.png")
        assert visible, "focus not visible on " + page.evaluate(
            """() => {
                const el = document.activeElement, style = getComputedStyle(el);
                return `${el.outerHTML.slice(0, 120)} (outline: ${style.outlineStyle} `
                    + `${style.outlineWidth}, ring: ${style.boxShadow})`;
            }"""
        )
        if target.evaluate("(el) => el === document.activeElement"):
            return
    raise AssertionError(f"{target} cannot be reached with Tab within {limit} presses")


def fill_by_keyboard(page: Page, values: dict[str, str], submit: bool = True) -> None:
    """Complete a form with the keyboard alone: Tab to each field, type, Enter to send.

    Call it on a freshly loaded page: focus then starts at the top, so the path to the form
    through the skip link and the menu is part of what is tested.
    """
    for name, value in values.items():
        tab_to(page, f'[name="{name}"]')
        page.keyboard.press("Control+A")
        page.keyboard.type(value)
    if submit:
        with next_document(page):
            page.keyboard.press("Enter")
