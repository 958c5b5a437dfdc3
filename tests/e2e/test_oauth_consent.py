"""A practitioner's software asks for access (issue 19, item 1): the practitioner, not signed
in, logs in with both factors and comes back to the consent page, approves with the keyboard,
the application gets its code; then the practitioner revokes it on their connected
applications page. Every page in French, axe at 0 violations, usable at 320 px."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import expect

from tests.accounts.factories import PASSWORD, PractitionerProfileFactory, add_totp, next_totp_token
from tests.accounts.oauth_factories import (
    ALL_SCOPES,
    authorize_url,
    make_application,
    pkce_pair,
    token_request,
)
from tests.e2e.browser import axe_violations, fill_by_keyboard
from tests.e2e.steps import NARROWEST, fits_320_pixels, follow


def test_a_practitioner_approves_then_revokes_an_application(site, new_page, inspector):
    practitioner = PractitionerProfileFactory(first_name="Hélène", last_name="Lefèvre").user
    device = add_totp(practitioner)
    callback = f"{site}/logiciel/retour/"
    application, secret = make_application(name="Cabinet Plus", redirect_uris=callback)
    verifier, challenge = pkce_pair()
    wanted = authorize_url(application, challenge, redirect_uri=callback, scope=ALL_SCOPES)

    page = inspector.watch(new_page())
    page.goto(site + wanted)
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    inspector.check(page, "login")
    fill_by_keyboard(page, {"username": practitioner.username, "password": PASSWORD})
    inspector.check(page, "login-code")
    fill_by_keyboard(page, {"otp_token": next_totp_token(device)})

    # Back on the consent page, with the whole request.
    expect(page.locator("h1")).to_have_text("Autoriser Cabinet Plus ?")
    expect(page.get_by_test_id("scopes")).to_contain_text("Télécharger le contenu des documents")
    expect(page.locator("main")).to_contain_text("Hélène Lefèvre")
    inspector.check(page, "consent")
    page.set_viewport_size(NARROWEST)
    assert axe_violations(page) == [], "consent page at 320 px"
    assert fits_320_pixels(page)
    follow(page, page.locator("[name=allow]"))

    # The application's return address got the code and the state.
    assert page.url.startswith(callback)
    params = parse_qs(urlparse(page.url).query)
    assert params["state"] == ["etat-123"]
    inspector.check(page, "callback")
    tokens = token_request(
        application,
        secret,
        grant_type="authorization_code",
        code=params["code"][0],
        redirect_uri=callback,
        code_verifier=verifier,
    )
    assert tokens.status_code == 200

    # The connected applications page, from the menu; revoking with the keyboard.
    page.goto(site + "/")
    inspector.check(page, "workspace")
    follow(page, page.locator('nav.nav-menu a[href="/accounts/applications/"]'))
    inspector.check(page, "applications")
    expect(page.get_by_test_id("application")).to_contain_text("Cabinet Plus")
    page.set_viewport_size(NARROWEST)
    assert axe_violations(page) == [], "applications page at 320 px"
    assert fits_320_pixels(page)
    follow(page, page.get_by_role("button", name="Révoquer l'accès"))
    inspector.check(page, "revoked")
    expect(page.get_by_role("status")).to_contain_text("L'accès de Cabinet Plus a été révoqué")
    expect(page.get_by_test_id("no-application")).to_be_visible()

    # An invalid request: explained in French, sent nowhere.
    page.goto(
        site
        + authorize_url(
            application, challenge, redirect_uri=callback, code_challenge_method="plain"
        )
    )
    expect(page.get_by_test_id("oauth-error")).to_contain_text("PKCE")
    assert page.url.startswith(site + "/oauth/authorize/")
    inspector.check(page, "error")
