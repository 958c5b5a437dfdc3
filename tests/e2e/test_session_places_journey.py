"""With a place database configured, the sessions page names the approximate place of a session
beside its network (« Lyon, France »), and still passes axe without scrolling sideways at 320 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import ViewportSize, expect

from tests.accounts.factories import PASSWORD, UserFactory, add_totp, next_totp_token
from tests.accounts.place_factories import LYON, write_database
from tests.e2e.browser import DESKTOP, axe_violations, horizontal_overflow
from tests.e2e.steps import log_in

NARROW: ViewportSize = {"width": 320, "height": 640}


@pytest.fixture
def places(settings, tmp_path):
    """The tiny place database, and one proxy of ours in front: the browser's address is the
    X-Forwarded-For that the page below sends (the live server sees only 127.0.0.1)."""
    settings.DMP_GEOIP_PATH = str(write_database(tmp_path / "places.mmdb"))
    settings.TRUSTED_PROXY_HOPS = 1


def test_the_sessions_page_names_the_place_of_a_session(site, new_page, inspector, places):
    patient = UserFactory()
    device = add_totp(patient)
    page = inspector.watch(new_page())
    page.set_extra_http_headers({"X-Forwarded-For": LYON})
    log_in(page, inspector, site, patient.username, PASSWORD, next_totp_token(device))
    inspector.check(page, "home")

    page.goto(site + "/accounts/sessions/")
    inspector.check(page, "sessions")
    session = page.get_by_test_id("session")
    expect(session).to_have_count(1)
    expect(session.locator("dt").nth(1)).to_have_text("Lieu approximatif")
    expect(session.locator("dd").nth(1)).to_have_text("Lyon, France")
    expect(session.locator("dd").first).to_have_text("81.250.3.x")
    for size in (NARROW, DESKTOP):
        page.set_viewport_size(size)
        assert axe_violations(page) == [], f"sessions at {size['width']} px"
        assert horizontal_overflow(page) == 0, f"sessions scroll sideways at {size['width']} px"
