"""The permissions on the consent page and the connected applications page, in the reader's
language (issue 19, review M5): English source strings through gettext, French in the catalog,
never the settings' plain English for the toolkit on a French page, nor French on an English one."""

from __future__ import annotations

from html import unescape

import pytest
from django.conf import settings

from tests.accounts.factories import PractitionerProfileFactory, logged_in_client
from tests.accounts.oauth_factories import (
    ALL_SCOPES,
    authorize_url,
    exchange,
    make_application,
    pkce_pair,
)
from tests.accounts.oauth_factories import approve as approve_application

pytestmark = pytest.mark.django_db

FRENCH = (
    "Rechercher un patient par son INS et lire son identité",
    "Lister et lire les fiches des documents",
    "Télécharger le contenu des documents",
)
ENGLISH = (
    "Search a patient by their INS and read their identity",
    "List and read the documents&#x27; entries",
    "Download the documents&#x27; content",
)


def _page(language: str) -> str:
    client = logged_in_client(PractitionerProfileFactory.create().user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    application = make_application()[0]
    _verifier, challenge = pkce_pair()
    page = client.get(authorize_url(application, challenge, scope=ALL_SCOPES))
    assert page.status_code == 200
    return page.content.decode()


@pytest.mark.parametrize(
    ("language", "shown", "not_shown"), [("fr", FRENCH, ENGLISH), ("en", ENGLISH, FRENCH)]
)
def test_the_consent_page_describes_the_permissions_in_the_readers_language(
    language, shown, not_shown
):
    html = _page(language)
    for text in shown:
        assert text in html, text
    for text in not_shown:
        assert text not in html, text
    # The permission not asked for is not described, in either language.
    assert "Ajouter des documents au dossier" not in html
    assert "Add documents to the record" not in html


def test_the_connected_applications_page_describes_them_in_english_too():
    practitioner = PractitionerProfileFactory.create().user
    client = logged_in_client(practitioner)
    application, secret = make_application()
    verifier, challenge = pkce_pair()
    code = approve_application(client, application, challenge)
    assert exchange(application, secret, code, verifier).status_code == 200
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = unescape(client.get("/accounts/applications/").content.decode())
    assert "Download the documents' content" in html
    assert "Télécharger le contenu des documents" not in html
