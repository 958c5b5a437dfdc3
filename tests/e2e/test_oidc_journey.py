"""A practitioner signs in through the OpenID Connect provider in a real Chromium (issue 19,
item 4): the login page's « Se connecter avec Pro Santé Connect », the provider's own login page
(the tests' provider: tests/oidc_provider/), and back on the portal's workspace without the
portal's second factor. Then a refusal: the login page says why, in French. Every page is
checked (axe at 0 at 1280 and 320 px, French, labelled fields, no sideways scroll)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from stdnum import luhn

from tests.accounts.factories import PractitionerProfileFactory, add_totp
from tests.e2e.browser import next_document
from tests.e2e.steps import follow
from tests.oidc_provider.flow import PASSWORD
from tests.oidc_provider.server import running_provider

RPPS = "1990000011" + luhn.calc_check_digit("1990000011")
BUTTON = "Se connecter avec Pro Santé Connect"


@pytest.fixture(scope="module")
def provider(live_server, tmp_path_factory):
    users = [
        ("dr.martin", PASSWORD, "eidas1", "8" + RPPS),
        ("dr.martin.faible", PASSWORD, "mot-de-passe", "8" + RPPS),
    ]
    with running_provider(
        f"{live_server.url}/oidc/callback/", users, tmp_path_factory.mktemp("oidc")
    ) as running:
        yield running


@pytest.fixture
def portal(site, provider, settings):
    for name, value in provider.portal_settings().items():
        setattr(settings, name, value)
    user = PractitionerProfileFactory.create(rpps=RPPS, last_name="Martin").user
    add_totp(user)
    return site


def _through_the_provider(page, inspector, portal: str, username: str) -> None:
    page.goto(portal + "/accounts/login/")
    inspector.check(page, "login")
    follow(page, page.get_by_role("link", name=BUTTON))
    inspector.check(page, "provider-login")
    # The provider's page, not the portal's: filled as any browser would.
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with next_document(page):
        page.click("button[type=submit]")


def test_a_practitioner_signs_in_with_the_provider(portal, new_page, inspector):
    page = inspector.watch(new_page())
    _through_the_provider(page, inspector, portal, "dr.martin")
    expect(page).to_have_url(portal + "/pro/workspace/")
    inspector.check(page, "workspace")
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()


def test_a_weak_authentication_is_refused_in_french(portal, new_page, inspector):
    page = inspector.watch(new_page())
    _through_the_provider(page, inspector, portal, "dr.martin.faible")
    expect(page).to_have_url(portal + "/accounts/login/")
    expect(page.get_by_role("status")).to_contain_text(
        "Pro Santé Connect n'a pas confirmé une authentification forte"
    )
    inspector.check(page, "refused")
