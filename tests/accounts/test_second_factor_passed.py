"""One question for « did this session pass the second factor? » (issue 19, review « later »
6 and 7): ``accounts.oidc.second_factor_passed``, asked by the second-factor gate and by the
consent page of practitioners' software, answers yes for a django-otp device or for the OpenID
Connect provider's strong authentication; the gate names the provider as the session's
``otp_device`` (no method of the user replaced). And no module of accounts imports another's
private name."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client, RequestFactory
from django_otp.middleware import is_verified

from accounts.oidc import PROVIDER_FACTOR, PROVIDER_SESSION_KEY, second_factor_passed
from accounts.views_oauth import PortalAuthorizationView
from tests.accounts.factories import PractitionerProfileFactory, logged_in_client
from tests.accounts.oauth_factories import authorize_url, make_application, pkce_pair

pytestmark = pytest.mark.django_db
ACCOUNTS = Path(__file__).resolve().parents[2] / "accounts"


def _provider_client(user) -> Client:
    client = Client()
    client.force_login(user)
    session = client.session
    session[PROVIDER_SESSION_KEY] = {"user": str(user.pk)}
    session.save()
    return client


def _bare_request(user, *, marker: bool):
    """A request as django-otp's middleware leaves it, before the portal's gate: no device."""
    _verifier, challenge = pkce_pair()
    request = RequestFactory().get(authorize_url(make_application()[0], challenge))
    request.session = SessionStore()
    if marker:
        request.session[PROVIDER_SESSION_KEY] = {"user": str(user.pk)}
    user.otp_device = None
    user.is_verified = functools.partial(is_verified, user)
    request.user = user
    return request


def test_the_gate_names_the_provider_as_the_sessions_device(settings):
    settings.DMP_OIDC_ENABLED = True
    practitioner = PractitionerProfileFactory.create().user
    response = _provider_client(practitioner).get("/pro/workspace/")
    assert response.status_code == 200
    user = response.wsgi_request.user
    assert user.otp_device is PROVIDER_FACTOR and user.is_verified()
    # django-otp's own is_verified (« otp_device is not None »), not a replacement.
    assert user.is_verified.func is is_verified
    assert second_factor_passed(response.wsgi_request)


def test_a_device_passes_and_a_password_only_session_does_not(settings):
    settings.DMP_OIDC_ENABLED = True
    practitioner = PractitionerProfileFactory.create().user
    response = logged_in_client(practitioner).get("/pro/workspace/")
    assert response.status_code == 200 and second_factor_passed(response.wsgi_request)
    assert response.wsgi_request.user.otp_device is not PROVIDER_FACTOR
    assert not second_factor_passed(_bare_request(practitioner, marker=False))
    assert second_factor_passed(_bare_request(practitioner, marker=True))
    settings.DMP_OIDC_ENABLED = False
    assert not second_factor_passed(_bare_request(practitioner, marker=True))


def test_the_consent_page_itself_honours_the_providers_authentication(settings):
    """Asked of the view alone (without the gate): the provider's session is let in, a session
    without a second factor is sent to the login."""
    settings.DMP_OIDC_ENABLED = True
    practitioner = PractitionerProfileFactory.create().user
    view = PortalAuthorizationView.as_view()
    refused = view(_bare_request(practitioner, marker=False))
    assert refused.status_code == 302 and refused["Location"].startswith("/accounts/login/")
    let_in = view(_bare_request(practitioner, marker=True))
    assert let_in.status_code == 200


def test_no_module_of_accounts_imports_a_private_name_of_another():
    found = []
    for path in ACCOUNTS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("accounts"):
                found += [
                    f"{path.name}: {node.module}.{alias.name}"
                    for alias in node.names
                    if alias.name.startswith("_")
                ]
    assert found == []
