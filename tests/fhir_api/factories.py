"""Builders for the FHIR API tests: an OAuth2 application and access tokens stored as
django-oauth-toolkit stores them (hashed at rest: ``set_token_value`` keeps the token's SHA-256
checksum only), so that the API checks them exactly as it checks tokens the server issued."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, set_token_value

from accounts.models import User

ALL_READS = "user/Patient.read user/DocumentReference.read user/Binary.read"
NIR_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"


def application(name: str = "Logiciel du cabinet") -> Application:
    return Application.objects.create(
        name=name,
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://logiciel.example/callback",
    )


def access_token(
    practitioner: User,
    app: Application | None = None,
    *,
    scope: str = ALL_READS,
    expires_in: timedelta = timedelta(minutes=5),
) -> tuple[str, AccessToken]:
    """A token of ``practitioner`` through ``app``: (the bearer value, its row)."""
    raw = secrets.token_urlsafe(32)
    token = AccessToken(
        user=practitioner,
        application=app or application(),
        scope=scope,
        expires=timezone.now() + expires_in,
    )
    set_token_value(token, raw)
    token.save()
    return raw, token


def api_client(raw: str) -> Client:
    """A client that sends the token in the Authorization header, with no cookie."""
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def search_patient(client: Client, nir: str):
    return client.post(
        "/fhir/Patient/_search", {"identifier": f"{NIR_SYSTEM}|{nir.replace(' ', '')}"}
    )
