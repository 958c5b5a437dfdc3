"""/oauth/token/: the authorization code with PKCE, short access tokens, rotating refresh
tokens whose replay revokes the family, every other grant refused, tokens and codes stored
hashed and never logged (issue 19, item 1)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, Grant, RefreshToken

from accounts.models import User
from fhir_api.authentication import Unauthenticated, api_caller
from tests.accounts.factories import PractitionerProfileFactory, logged_in_client
from tests.accounts.oauth_factories import (
    REDIRECT_URI,
    bearer_request,
    code_for,
    connect,
    exchange,
    make_application,
    pkce_pair,
    token_request,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def practitioner() -> User:
    return PractitionerProfileFactory.create().user


@pytest.fixture
def registered():
    return make_application()


def test_the_code_and_verifier_give_a_five_minute_token_of_the_practitioner(
    practitioner, registered
):
    tokens = connect(logged_in_client(practitioner), registered)
    assert tokens["expires_in"] == 300
    assert tokens["token_type"] == "Bearer"
    assert set(tokens["scope"].split()) == {
        "user/Patient.read",
        "user/DocumentReference.read",
        "user/Binary.read",
    }
    caller = api_caller(bearer_request(tokens["access_token"]), "user/Patient.read")
    assert caller.practitioner == practitioner
    assert caller.client_id == registered[0].client_id


def test_tokens_and_codes_are_stored_hashed(practitioner, registered):
    application, secret = registered
    code, verifier = code_for(logged_in_client(practitioner), application)
    assert not Grant.objects.filter(code=code).exists()
    tokens = exchange(application, secret, code, verifier).json()
    access, refresh = AccessToken.objects.get(), RefreshToken.objects.get()
    assert access.token == "" and refresh.token == ""
    assert tokens["access_token"] not in access.token_checksum
    assert tokens["refresh_token"] not in refresh.token_checksum
    # The client secret too.
    application.refresh_from_db()
    assert secret not in application.client_secret


def test_a_wrong_verifier_is_refused(practitioner, registered):
    application, secret = registered
    code, _verifier = code_for(logged_in_client(practitioner), application)
    other_verifier, _challenge = pkce_pair()
    response = exchange(application, secret, code, other_verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert not AccessToken.objects.exists()


def test_a_missing_verifier_is_refused(practitioner, registered):
    application, secret = registered
    code, _verifier = code_for(logged_in_client(practitioner), application)
    response = token_request(
        application, secret, grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI
    )
    assert response.status_code == 400
    assert not AccessToken.objects.exists()


def test_a_code_works_once(practitioner, registered):
    application, secret = registered
    code, verifier = code_for(logged_in_client(practitioner), application)
    assert exchange(application, secret, code, verifier).status_code == 200
    again = exchange(application, secret, code, verifier)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert AccessToken.objects.count() == 1


def test_an_expired_code_is_refused(practitioner, registered):
    application, secret = registered
    code, verifier = code_for(logged_in_client(practitioner), application)
    Grant.objects.update(expires=timezone.now() - timedelta(seconds=1))
    response = exchange(application, secret, code, verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert not AccessToken.objects.exists()


def test_a_redirect_uri_other_than_the_approved_one_is_refused(practitioner):
    application, secret = make_application(
        redirect_uris=f"{REDIRECT_URI} https://logiciel.example/autre"
    )
    code, verifier = code_for(logged_in_client(practitioner), application)
    response = exchange(
        application, secret, code, verifier, redirect_uri="https://logiciel.example/autre"
    )
    assert response.status_code == 400
    unregistered = exchange(
        application, secret, code, verifier, redirect_uri="https://attaquant.example/vol"
    )
    assert unregistered.status_code == 400
    assert not AccessToken.objects.exists()


def test_another_application_cannot_redeem_the_code(practitioner, registered):
    application, _secret = registered
    other, other_secret = make_application(name="Autre")
    code, verifier = code_for(logged_in_client(practitioner), application)
    response = exchange(other, other_secret, code, verifier)
    assert response.status_code == 400
    assert not AccessToken.objects.exists()


def test_refresh_tokens_rotate_and_a_replay_revokes_the_family(practitioner, registered):
    application, secret = registered
    first = connect(logged_in_client(practitioner), registered)
    rotated = token_request(
        application, secret, grant_type="refresh_token", refresh_token=first["refresh_token"]
    )
    assert rotated.status_code == 200
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    api_caller(bearer_request(second["access_token"]), "user/Patient.read")
    with pytest.raises(Unauthenticated):
        api_caller(bearer_request(first["access_token"]), "user/Patient.read")

    # The old refresh token replayed (stolen, say): refused, and the whole family with it.
    replay = token_request(
        application, secret, grant_type="refresh_token", refresh_token=first["refresh_token"]
    )
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    with pytest.raises(Unauthenticated):
        api_caller(bearer_request(second["access_token"]), "user/Patient.read")
    after = token_request(
        application, secret, grant_type="refresh_token", refresh_token=second["refresh_token"]
    )
    assert after.status_code == 400
    assert not RefreshToken.objects.filter(revoked__isnull=True).exists()


def test_an_expired_access_token_is_refused(practitioner, registered):
    tokens = connect(logged_in_client(practitioner), registered)
    AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=1))
    with pytest.raises(Unauthenticated):
        api_caller(bearer_request(tokens["access_token"]), "user/Patient.read")


@pytest.mark.parametrize(
    ("grant_type", "data"),
    [
        ("client-credentials", {"grant_type": "client_credentials"}),
        (
            "password",
            {"grant_type": "password", "username": "x", "password": "correct horse battery"},
        ),
        (
            "urn:ietf:params:oauth:grant-type:device_code",
            {"grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": "x"},
        ),
        ("authorization-code", {"grant_type": "client_credentials"}),
        ("authorization-code", {"grant_type": "password", "username": "x", "password": "y"}),
    ],
)
def test_every_other_grant_is_refused_whatever_the_application_row_says(grant_type, data):
    application, secret = make_application(grant_type=grant_type)
    response = token_request(application, secret, **data)
    assert response.status_code in (400, 401, 404)
    assert "access_token" not in response.content.decode()
    assert not AccessToken.objects.exists()


def test_a_practitioner_password_gives_no_token(practitioner):
    """The password grant, even with a practitioner's right password."""
    application, secret = make_application(grant_type="password")
    response = token_request(
        application,
        secret,
        grant_type="password",
        username=practitioner.username,
        password="correct horse battery staple",
    )
    assert response.status_code in (400, 401)
    assert not AccessToken.objects.exists()


def test_no_code_or_token_reaches_a_log_line_even_at_debug(practitioner, registered, caplog):
    caplog.set_level(logging.DEBUG)
    application, secret = registered
    code, verifier = code_for(logged_in_client(practitioner), application)
    tokens = exchange(application, secret, code, verifier).json()
    token_request(
        application, secret, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret_value in (code, tokens["access_token"], tokens["refresh_token"], verifier):
        assert secret_value not in logged


def test_a_public_application_proves_itself_with_the_verifier_alone(practitioner):
    application, _secret = make_application(client_type="public")
    code, verifier = code_for(logged_in_client(practitioner), application)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "client_id": application.client_id,
    }
    assert Client().post("/oauth/token/", data).status_code == 400  # no verifier
    response = Client().post("/oauth/token/", {**data, "code_verifier": verifier})
    assert response.status_code == 200
    api_caller(bearer_request(response.json()["access_token"]), "user/Binary.read")
