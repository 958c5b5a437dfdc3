"""The OpenID Connect sign-in's settings and switch (issue 19, item 4): off by default (no
button, /oidc/ answers the portal's 404), what enabling it requires, and the session marker
that stands for the second factor, honoured for a practitioner only and only while enabled.
The sign-in itself, against a real provider: tests/accounts/test_oidc.py."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.test import Client

from accounts.oidc import PROVIDER_SESSION_KEY, check_issuer_and_audience
from accounts.services.oidc import rpps_of
from dmp_portal.settings.env import Env
from dmp_portal.settings.oidc import read
from tests.accounts.factories import PractitionerProfileFactory, UserFactory

ENABLED = {
    "DMP_OIDC_ENABLED": "true",
    "DMP_OIDC_ISSUER": "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet",
    "DMP_OIDC_AUTHORIZATION_ENDPOINT": "https://wallet.esw.esante.gouv.fr/auth",
    "DMP_OIDC_TOKEN_ENDPOINT": "https://auth.esw.esante.gouv.fr/token",
    "DMP_OIDC_USERINFO_ENDPOINT": "https://auth.esw.esante.gouv.fr/userinfo",
    "DMP_OIDC_JWKS_ENDPOINT": "https://auth.esw.esante.gouv.fr/certs",
    "DMP_OIDC_CLIENT_ID": "portail-dmp",
    "DMP_OIDC_CLIENT_SECRET": "secret",
    "DMP_OIDC_ACR_VALUES": "eidas1",
}


def test_off_by_default():
    assert settings.DMP_OIDC_ENABLED is False
    assert settings.AUTHENTICATION_BACKENDS == ["django.contrib.auth.backends.ModelBackend"]
    assert read(Env({}))["DMP_OIDC_ENABLED"] is False


@pytest.mark.django_db
def test_disabled_the_addresses_answer_the_portal_404_and_the_button_is_absent(client):
    for path in ("/oidc/authenticate/", "/oidc/callback/?code=a&state=b"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert 'lang="fr"' in answer.content.decode()
    page = client.get("/accounts/login/").content.decode()
    assert "Se connecter avec" not in page
    assert "/oidc/" not in page


@pytest.mark.django_db
def test_enabled_the_login_page_offers_the_provider(client, settings):
    settings.DMP_OIDC_ENABLED = True
    settings.DMP_OIDC_PROVIDER_NAME = "Pro Santé Connect"
    page = client.get("/accounts/login/").content.decode()
    assert 'href="/oidc/authenticate/"' in page
    assert "Se connecter avec Pro Santé Connect" in page


def test_enabling_requires_every_value_of_the_provider():
    with pytest.raises(ImproperlyConfigured) as refusal:
        read(Env({"DMP_OIDC_ENABLED": "true", "DMP_OIDC_CLIENT_ID": "x"}))
    message = str(refusal.value)
    assert "DMP_OIDC_ISSUER" in message and "DMP_OIDC_ACR_VALUES" in message
    assert "DMP_OIDC_CLIENT_ID" not in message.split("(")[0]


def test_enabled_values():
    values = read(Env(ENABLED))
    assert values["DMP_OIDC_ACR_VALUES"] == ("eidas1",)
    assert values["OIDC_RP_SCOPES"] == "openid scope_all"
    assert values["OIDC_OP_USER_ENDPOINT"] == ENABLED["DMP_OIDC_USERINFO_ENDPOINT"]
    assert values["OIDC_USE_PKCE"] and values["OIDC_USE_NONCE"]
    assert values["OIDC_AUTH_REQUEST_EXTRA_PARAMS"] == {"acr_values": "eidas1"}
    assert values["OIDC_RP_SIGN_ALGO"] == "RS256"
    assert values["DMP_OIDC_PROVIDER_NAME"] == "Pro Santé Connect"


def test_the_client_secret_may_come_from_a_file(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    environ = {k: v for k, v in ENABLED.items() if k != "DMP_OIDC_CLIENT_SECRET"}
    values = read(Env({**environ, "DMP_OIDC_CLIENT_SECRET_FILE": str(secret)}))
    assert values["OIDC_RP_CLIENT_SECRET"] == "from-a-file"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DMP_OIDC_TOKEN_ENDPOINT", "http://auth.example/token"),  # plain http off the loopback
        ("DMP_OIDC_ISSUER", "auth.example"),
        ("DMP_OIDC_SCOPES", "scope_all"),  # without openid
        ("DMP_OIDC_SIGN_ALGO", "HS256"),  # a secret shared with the provider: refused
        ("DMP_OIDC_TIMEOUT_SECONDS", "0"),
    ],
)
def test_bad_values_stop_the_start(name, value):
    with pytest.raises(ImproperlyConfigured):
        read(Env({**ENABLED, name: value}))


def test_plain_http_is_accepted_on_the_loopback_only():
    values = read(Env({**ENABLED, "DMP_OIDC_TOKEN_ENDPOINT": "http://127.0.0.1:8001/token/"}))
    assert values["OIDC_OP_TOKEN_ENDPOINT"] == "http://127.0.0.1:8001/token/"


def test_the_rpps_is_read_from_pro_sante_connects_subject_name_id(settings):
    assert rpps_of("810000000009") == "10000000009"
    for claim in ("10000000009", "010000000009", "8100000000", "8\uff110000000009", None, 8):
        assert rpps_of(claim) is None, claim
    settings.DMP_OIDC_RPPS_PREFIX = ""
    assert rpps_of("10000000009") == "10000000009"


def _client_with_marker(user, names) -> Client:
    client = Client()
    client.force_login(user)
    session = client.session
    session[PROVIDER_SESSION_KEY] = {"user": str(names.pk)}
    session.save()
    return client


@pytest.mark.django_db
def test_the_marker_stands_for_the_second_factor_of_a_practitioner_while_enabled(settings):
    practitioner = PractitionerProfileFactory.create().user
    client = _client_with_marker(practitioner, practitioner)
    # Disabled: the marker is worth nothing, the second factor is asked for.
    assert client.get("/pro/workspace/").status_code == 302
    settings.DMP_OIDC_ENABLED = True
    assert client.get("/pro/workspace/").status_code == 200


@pytest.mark.django_db
def test_the_marker_is_worth_nothing_to_a_patient_or_for_another_account(settings):
    settings.DMP_OIDC_ENABLED = True
    patient = UserFactory.create()
    assert _client_with_marker(patient, patient).get("/records/").status_code == 302
    practitioner = PractitionerProfileFactory.create().user
    other = PractitionerProfileFactory.create().user
    assert _client_with_marker(practitioner, other).get("/pro/workspace/").status_code == 302


@pytest.mark.parametrize(
    ("changes", "accepted"),
    [
        ({}, True),
        ({"aud": ["portail-dmp", "another"], "azp": "portail-dmp"}, True),
        ({"aud": "another"}, False),
        ({"aud": ["portail-dmp", "another"]}, False),  # several audiences, no azp
        ({"aud": None}, False),
        ({"iss": "https://another.example"}, False),
        ({"exp": None}, False),
    ],
)
def test_the_id_token_names_this_issuer_and_this_client(settings, changes, accepted):
    settings.DMP_OIDC_ISSUER = "https://provider.example"
    settings.OIDC_RP_CLIENT_ID = "portail-dmp"
    payload = {"iss": "https://provider.example", "aud": "portail-dmp", "exp": 2_000_000_000}
    payload.update(changes)
    if accepted:
        check_issuer_and_audience(payload)
    else:
        with pytest.raises(SuspiciousOperation):
            check_issuer_and_audience(payload)
