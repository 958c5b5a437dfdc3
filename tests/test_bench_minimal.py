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


def test_the_portals_bare_view_costs_the_same_two_queries():
    """Behind the portal's whole middleware list, the bare view loads the session, then the user
    with the check of her session's device in the same statement
    (accounts.middleware.VerifiedUserMiddleware): django-otp's device query is gone."""
    client = logged_in_client(UserFactory())
    with override_settings(ROOT_URLCONF="bench.urls"):
        client.get("/bench/baseline/")  # the session's "seen" time may be written once
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/bench/baseline/")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert response.wsgi_request.user.is_verified()
    assert len(queries) == 2  # the session; the user with her device's check
