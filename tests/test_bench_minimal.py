"""The load benchmark's second baseline (bench.minimal_settings, README « Load benchmark »): the
same bare view behind only session and authentication middleware, which the portal's logged-in
users' session cookie opens, loading the session and the user and nothing else."""

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from bench import minimal_settings
from dmp_portal import settings as portal_settings
from tests.accounts.factories import UserFactory, logged_in_client

pytestmark = pytest.mark.django_db

# What bench.minimal_settings changes from the portal's settings (the rest is checked equal).
CHANGED = ("MIDDLEWARE", "ROOT_URLCONF", "LOGIN_URL")
MINIMAL = {name: getattr(minimal_settings, name) for name in CHANGED}


def setting_names(module) -> set[str]:
    return {name for name in dir(module) if name.isupper() and not name.startswith("_")}


def test_only_the_middleware_and_urls_differ_from_the_portal():
    assert minimal_settings.MIDDLEWARE == [
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
    ]
    # The same cookie must open the same session and user on both gunicorns.
    names = setting_names(portal_settings)
    assert setting_names(minimal_settings) >= names
    for name in names - set(CHANGED):
        assert getattr(minimal_settings, name) == getattr(portal_settings, name), name


def test_a_portal_session_opens_the_minimal_bare_view_with_two_queries():
    portal = logged_in_client(UserFactory())
    with override_settings(**MINIMAL):
        client = Client()
        client.cookies = portal.cookies
        client.get("/bench/baseline/")  # the handler loads its middleware at the first request
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/bench/baseline/")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert len(queries) == 2  # the session and the user


def test_without_a_session_the_minimal_view_sends_to_the_portals_login():
    with override_settings(**MINIMAL):
        response = Client().get("/bench/baseline/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
