"""Applications in the admin (issue 19, item 1): registered by staff for the authorization
code only, the secret shown once and stored hashed, no page for tokens or codes."""

from __future__ import annotations

from html import unescape

import pytest
from django.contrib import admin
from oauth2_provider.models import AccessToken, Application, Grant, IDToken, RefreshToken

from tests.accounts.factories import verified_staff_client

pytestmark = pytest.mark.django_db
ADD = "/admin/oauth2_provider/application/add/"


def test_staff_register_a_confidential_application_and_see_its_secret_once():
    client = verified_staff_client()
    response = client.post(
        ADD,
        {
            "name": "Cabinet Plus",
            "client_type": "confidential",
            "redirect_uris": "https://cabinet.example/callback",
            # Not offered by the form: ignored.
            "authorization_grant_type": "client-credentials",
            "skip_authorization": "on",
        },
    )
    assert response.status_code == 200
    application = Application.objects.get()
    assert application.authorization_grant_type == Application.GRANT_AUTHORIZATION_CODE
    assert not application.skip_authorization
    assert application.hash_client_secret
    page = unescape(response.rendered_content)
    secret = response.context_data["client_secret"]
    assert len(secret) > 30 and secret in page
    assert application.client_id in page
    # Stored as a hash only, never shown again.
    assert application.client_secret.startswith(("argon2", "pbkdf2", "scrypt", "test_argon2"))
    assert secret not in application.client_secret
    change = client.get(f"/admin/oauth2_provider/application/{application.pk}/change/")
    assert secret not in change.content.decode()
    assert application.client_secret not in change.content.decode()


def test_a_public_application_has_no_secret_to_show():
    response = verified_staff_client().post(
        ADD,
        {
            "name": "Appli mobile",
            "client_type": "public",
            "redirect_uris": "https://mobile.example/callback",
        },
    )
    assert response.status_code == 200
    assert response.context_data["client_secret"] == ""
    assert 'data-testid="client-secret"' not in response.rendered_content


def test_tokens_codes_and_id_tokens_have_no_admin_page():
    for model in (AccessToken, RefreshToken, Grant, IDToken):
        assert not admin.site.is_registered(model)
    assert admin.site.is_registered(Application)


@pytest.mark.parametrize(
    "redirect_uris",
    ["", "javascript:alert(1)", "logiciel.example/retour", "https://logiciel.example/r#x"],
)
def test_a_bad_return_address_is_explained_in_french_and_nothing_is_registered(redirect_uris):
    response = verified_staff_client().post(
        ADD, {"name": "Cabinet Plus", "client_type": "public", "redirect_uris": redirect_uris}
    )
    assert response.status_code == 200
    page = unescape(response.content.decode())
    assert "n'est pas une adresse de retour" in page or "Ce champ est obligatoire" in page
    assert not Application.objects.exists()
