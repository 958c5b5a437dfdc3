"""Builders of the OAuth2 tests (issue 19): an application, a PKCE pair, the consent page's
approval, the token endpoint's answers. The flow is the real one, through the portal's views."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlparse

from django.test import Client, RequestFactory
from oauth2_provider.models import Application

REDIRECT_URI = "https://logiciel.example/callback"
ALL_SCOPES = "user/Patient.read user/DocumentReference.read user/Binary.read"
AUTHORIZE = "/oauth/authorize/"
TOKEN = "/oauth/token/"


def make_application(
    *,
    name: str = "Logiciel de cabinet",
    client_type: str = Application.CLIENT_CONFIDENTIAL,
    grant_type: str = Application.GRANT_AUTHORIZATION_CODE,
    redirect_uris: str = REDIRECT_URI,
    **extra,
) -> tuple[Application, str]:
    """A registered application and its client secret in clear (stored hashed)."""
    secret = secrets.token_urlsafe(32)
    application = Application.objects.create(
        name=name,
        client_type=client_type,
        authorization_grant_type=grant_type,
        redirect_uris=redirect_uris,
        client_secret=secret,
        **extra,
    )
    return application, secret


def pkce_pair() -> tuple[str, str]:
    """A code verifier and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_url(application: Application, challenge: str | None, **overrides) -> str:
    query = {
        "response_type": "code",
        "client_id": application.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": ALL_SCOPES,
        "state": "etat-123",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **overrides,
    }
    return AUTHORIZE + "?" + urlencode({k: v for k, v in query.items() if v is not None})


def consent_fields(response) -> dict[str, str]:
    """The consent form's hidden fields, as the page rendered them."""
    form = response.context["form"]
    return {name: value for name, value in form.initial.items() if value not in (None, "")}


def answer(client: Client, application: Application, challenge: str, *, allow: bool, **over):
    """GET the consent page, then post it: « Autoriser » (allow) or « Refuser »."""
    page = client.get(authorize_url(application, challenge, **over))
    assert page.status_code == 200, page.status_code
    data = consent_fields(page)
    if allow:
        data["allow"] = "on"
    return client.post(AUTHORIZE, data)


def redirect_params(response) -> dict[str, str]:
    location = response["Location"]
    return {key: values[0] for key, values in parse_qs(urlparse(location).query).items()}


def approve(client: Client, application: Application, challenge: str, **over) -> str:
    """The authorization code the approval sends back to the application."""
    response = answer(client, application, challenge, allow=True, **over)
    assert response.status_code == 302, response.status_code
    assert response["Location"].startswith(REDIRECT_URI)
    return redirect_params(response)["code"]


def basic_auth(application: Application, secret: str) -> dict[str, str]:
    raw = f"{application.client_id}:{secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def token_request(application: Application, secret: str, **data):
    """POST /oauth/token/ as the application (client authentication by HTTP Basic)."""
    return Client().post(TOKEN, data, headers=basic_auth(application, secret))


def exchange(application: Application, secret: str, code: str, verifier: str, **over):
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
        **over,
    }
    return token_request(application, secret, **data)


def code_for(client: Client, application: Application) -> tuple[str, str]:
    """A code approved in ``client``'s session, and the PKCE verifier that redeems it."""
    verifier, challenge = pkce_pair()
    return approve(client, application, challenge), verifier


def connect(client: Client, registered: tuple[Application, str]) -> dict:
    """The token endpoint's answer (access and refresh tokens) after an approval in
    ``client``'s session, for ``registered`` (the application and its secret)."""
    application, secret = registered
    code, verifier = code_for(client, application)
    response = exchange(application, secret, code, verifier)
    assert response.status_code == 200, response.content
    return response.json()


def bearer_request(access_token: str):
    """A request of the API carrying ``access_token`` (for fhir_api.authentication)."""
    return RequestFactory().get("/fhir/metadata", HTTP_AUTHORIZATION=f"Bearer {access_token}")
