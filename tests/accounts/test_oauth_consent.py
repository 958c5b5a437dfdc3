"""/oauth/authorize/: who may approve an application, the consent page, its errors and its
audit events (issue 19, item 1)."""

from __future__ import annotations

from html import unescape
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client
from oauth2_provider.models import Grant

from accounts.oauth_validator import code_key
from audit.models import Action, AuditEvent
from tests.accounts.factories import (
    PASSWORD,
    PractitionerProfileFactory,
    StaffFactory,
    add_totp,
    logged_in_client,
    password_only_client,
    totp_token,
)
from tests.accounts.oauth_factories import (
    AUTHORIZE,
    REDIRECT_URI,
    answer,
    approve,
    authorize_url,
    consent_fields,
    make_application,
    pkce_pair,
    redirect_params,
)
from tests.records.factories import patient_with_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def practitioner():
    return PractitionerProfileFactory.create(first_name="Hélène", last_name="Lefèvre").user


@pytest.fixture
def application():
    return make_application(name="Cabinet Plus")[0]


def test_the_consent_page_names_the_application_the_scopes_and_the_practitioner(
    practitioner, application
):
    _verifier, challenge = pkce_pair()
    page = logged_in_client(practitioner).get(authorize_url(application, challenge))
    assert page.status_code == 200
    html = unescape(page.content.decode())
    assert "Autoriser Cabinet Plus" in html
    assert "Hélène Lefèvre" in html
    assert "Rechercher un patient par son INS et lire son identité" in html
    assert "Télécharger le contenu des documents" in html
    # A scope not asked for is not shown.
    assert "Ajouter des documents au dossier" not in html
    assert 'name="allow"' in html and "Autoriser</button>" in html and "Refuser</button>" in html
    assert consent_fields(page)["code_challenge"] == challenge


def test_approving_stores_a_hashed_code_and_is_recorded(practitioner, application):
    _verifier, challenge = pkce_pair()
    code = approve(logged_in_client(practitioner), application, challenge)
    grant = Grant.objects.get()
    assert grant.code == code_key(code) != code
    assert grant.code_challenge_method == "S256"
    event = AuditEvent.objects.get(action=Action.APPROVE_APPLICATION)
    assert event.actor == practitioner and event.patient is None
    assert event.application == application.client_id
    assert code not in event.reason


def test_refusing_sends_access_denied_to_the_registered_address_and_is_recorded(
    practitioner, application
):
    _verifier, challenge = pkce_pair()
    response = answer(logged_in_client(practitioner), application, challenge, allow=False)
    assert response.status_code == 302
    assert response["Location"].startswith(REDIRECT_URI)
    params = redirect_params(response)
    assert params["error"] == "access_denied" and params["state"] == "etat-123"
    assert not Grant.objects.exists()
    event = AuditEvent.objects.get(action=Action.REFUSE_APPLICATION)
    assert event.actor == practitioner and event.application == application.client_id


def test_a_refusal_posted_with_another_address_is_sent_nowhere(practitioner, application):
    _verifier, challenge = pkce_pair()
    client = logged_in_client(practitioner)
    data = consent_fields(client.get(authorize_url(application, challenge)))
    data["redirect_uri"] = "https://attaquant.example/vol"
    for posted in (data, {**data, "allow": "on"}):
        response = client.post(AUTHORIZE, posted)
        assert response.status_code == 400
        assert "Location" not in response
        assert "adresse de retour" in unescape(response.content.decode())
    assert not Grant.objects.exists()
    assert not AuditEvent.objects.filter(
        action__in=[Action.APPROVE_APPLICATION, Action.REFUSE_APPLICATION]
    ).exists()


def test_someone_not_signed_in_logs_in_with_the_second_factor_and_comes_back(application):
    practitioner = PractitionerProfileFactory.create().user
    device = add_totp(practitioner)
    _verifier, challenge = pkce_pair()
    wanted = authorize_url(application, challenge)
    client = Client()
    to_login = client.get(wanted)
    assert to_login.status_code == 302
    login_url = to_login["Location"]
    assert login_url.startswith("/accounts/login/")
    assert parse_qs(urlparse(login_url).query)["next"] == [wanted]
    client.get(login_url)
    client.post("/accounts/login/", {"username": practitioner.username, "password": PASSWORD})
    # The password alone: the consent page is out of reach.
    assert client.get(wanted)["Location"].startswith("/accounts/login/")
    back = client.post("/accounts/login/", {"otp_token": totp_token(device)})
    assert back["Location"] == wanted
    page = client.get(back["Location"])
    assert page.status_code == 200
    assert consent_fields(page)["code_challenge"] == challenge


def test_a_password_only_session_cannot_approve(application):
    practitioner = PractitionerProfileFactory.create().user
    add_totp(practitioner)
    client = password_only_client(practitioner)
    _verifier, challenge = pkce_pair()
    data = consent_fields(logged_in_client(practitioner).get(authorize_url(application, challenge)))
    assert client.get(authorize_url(application, challenge))["Location"].startswith(
        "/accounts/login/"
    )
    response = client.post(AUTHORIZE, {**data, "allow": "on"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not Grant.objects.exists()


@pytest.mark.parametrize("kind", ["patient", "staff"])
def test_a_patient_or_staff_member_gets_a_french_refusal_and_nothing(kind, application):
    if kind == "patient":
        _patient, client = patient_with_login()
    else:
        client = logged_in_client(StaffFactory.create())
    _verifier, challenge = pkce_pair()
    page = client.get(authorize_url(application, challenge))
    assert page.status_code == 403
    assert "Seul un professionnel de santé" in unescape(page.content.decode())
    practitioner = PractitionerProfileFactory.create().user
    data = consent_fields(logged_in_client(practitioner).get(authorize_url(application, challenge)))
    response = client.post(AUTHORIZE, {**data, "allow": "on"})
    assert response.status_code == 403
    assert not Grant.objects.exists()


def test_the_consent_page_is_always_shown(practitioner):
    """Neither an application's skip_authorization nor a client's approval_prompt=auto skips
    the practitioner's approval."""
    application = make_application(skip_authorization=True)[0]
    client = logged_in_client(practitioner)
    _verifier, challenge = pkce_pair()
    approve(client, application, challenge)
    again = client.get(authorize_url(application, challenge, approval_prompt="auto"))
    assert again.status_code == 200
    assert 'name="allow"' in again.content.decode()
    assert Grant.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"redirect_uri": "https://attaquant.example/vol"}, "adresse de retour"),
        ({"client_id": "inconnu"}, "pas enregistrée"),
        ({"code_challenge": None, "code_challenge_method": None}, "PKCE"),
        ({"code_challenge_method": "plain"}, "PKCE"),
        ({"code_challenge_method": None}, "PKCE"),
        ({"scope": "user/Everything.write"}, "autorisation que le portail ne connaît pas"),
        ({"response_type": "token"}, "code d'autorisation"),
    ],
)
def test_an_invalid_request_is_explained_in_french_and_sent_nowhere(
    overrides, message, practitioner, application
):
    _verifier, challenge = pkce_pair()
    response = logged_in_client(practitioner).get(
        authorize_url(application, challenge, **overrides)
    )
    assert response.status_code == 400
    assert "Location" not in response
    page = unescape(response.content.decode())
    assert message in page
    assert 'lang="fr"' in page
    assert not Grant.objects.exists()


def test_an_implicit_application_gets_no_token_in_the_address_bar(practitioner):
    application = make_application(grant_type="implicit")[0]
    _verifier, challenge = pkce_pair()
    client = logged_in_client(practitioner)
    for response_type in ("token", "code"):
        response = client.get(authorize_url(application, challenge, response_type=response_type))
        assert response.status_code == 400
        assert "Location" not in response
