"""Headless Chromium (Debian's package) driven by Playwright against pytest-django's live server.

Nothing is downloaded: the browser is ``/usr/bin/chromium`` (``.ci/run`` installs it) and
axe-core comes from ``node_modules`` (``make test`` runs ``npm ci``). Without either, the
browser tests are skipped on a developer's machine and fail under ``CI=true``.
"""

from __future__ import annotations

import os
import shutil

import pytest
from playwright.sync_api import sync_playwright

from tests.e2e.browser import ARTIFACTS, AXE_SCRIPT, CHROMIUM, CHROMIUM_ARGS, DESKTOP, Inspector
from tests.processes import services_missing


@pytest.fixture(scope="package")
def chromium():
    if not shutil.which(CHROMIUM):
        services_missing(f"{CHROMIUM} is missing: apt-get install chromium")
    if not AXE_SCRIPT.exists():
        services_missing("axe-core is missing: run `npm ci` (make test does)")

    # This run's screenshots only: a stale one would pass for evidence of a page it never saw.
    shutil.rmtree(ARTIFACTS, ignore_errors=True)

    # Playwright's synchronous API runs an event loop in the test's thread, and Django refuses
    # ORM calls from a thread with a running loop. The test thread only prepares data and reads
    # the outcome (pages are served by the live server's thread). Allowed for this package's
    # tests only: the variable must not reach the other tests or their subprocesses
    # (`check --deploy` rightly fails on it).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def site(live_server, transactional_db):
    """The portal's address, served from the test database by a thread of this process."""
    return live_server.url


@pytest.fixture
def new_page(chromium):
    """Pages in separate browser contexts: one per person, as on two different devices."""
    contexts = []

    def make(locale: str = "fr-FR"):
        context = chromium.new_context(viewport=DESKTOP, locale=locale)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def inspector(request):
    """Checks pages; at the end, every address the journey's pages showed must have been checked."""
    inspector = Inspector(request.node.name.removeprefix("test_"))
    yield inspector
    assert inspector.unchecked() == [], "pages shown but never checked"
