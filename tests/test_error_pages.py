"""Every error a person can meet shows the portal's own page: French first, styled, with a way
back; never one of Django's default pages (README, "Error pages").

The suite runs with DEBUG off, as production does; tests/test_error_pages_production.py asks
the same of a process in production mode, and the development 404 is tested here with DEBUG on.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client, RequestFactory, override_settings
from django.utils import translation

from dmp_portal import views
from tests.accounts.factories import PASSWORD, UserFactory, logged_in_client
from tests.enrollment.factories import make_nir

# What Django's own error pages say: none of it may reach a person.
DJANGO_DEFAULTS = (
    "Bad Request (400)",
    "Forbidden (403)",
    "CSRF verification failed",
    "Page not found at",
    "Server Error (500)",
    "Not Found",
    "Using the URLconf",
    "DEBUG = True",
)


def assert_portal_page(
    response, status: int, title: str, back: str = 'href="/"', language: str = "fr"
) -> str:
    assert response.status_code == status
    html = response.content.decode()
    assert f'<html lang="{language}">' in html, html[:300]
    found = re.search(r"<title>(.*?)</title>", html, flags=re.DOTALL)
    assert found is not None and found.group(1).startswith(title), html[:500]
    assert f"<h1>{title}</h1>" in html
    assert back in html, f"no way back ({back})"
    assert 'rel="stylesheet"' in html and "portal.css" in html
    assert [text for text in DJANGO_DEFAULTS if text in html] == []
    return html


@pytest.mark.django_db
@pytest.mark.parametrize("language", [None, "en-GB,en;q=0.9"])
def test_a_missing_page_is_the_portals_own_in_french(language):
    headers = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    response = Client().get("/nowhere/", **headers)
    html = assert_portal_page(response, 404, "Page introuvable")
    assert "Erreur 404" in html
    assert "Retour à la page d'accueil" in html


@pytest.mark.django_db
def test_a_refused_record_page_is_the_same_404():
    patient = UserFactory()
    response = logged_in_client(patient).get("/records/00000000-0000-0000-0000-000000000000/")
    assert_portal_page(response, 404, "Page introuvable")


@pytest.mark.django_db
def test_an_unknown_host_gets_the_portals_400():
    response = Client().get("/", HTTP_HOST="attacker.example")
    html = assert_portal_page(response, 400, "Demande incorrecte")
    assert "attacker.example" not in html


@pytest.mark.django_db
def test_a_body_too_large_gets_the_portals_400():
    too_big = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = Client().post("/enrollment/", {"nir": too_big, "nir_confirmation": ""})
    assert_portal_page(response, 400, "Demande incorrecte")


@pytest.mark.django_db
@pytest.mark.urls("tests.error_urls")
@pytest.mark.parametrize(
    ("path", "status", "title"),
    [
        ("/test-errors/bad/", 400, "Demande incorrecte"),
        ("/test-errors/forbidden/", 403, "Accès refusé"),
        ("/test-errors/missing/", 404, "Page introuvable"),
    ],
)
def test_errors_raised_by_a_view_get_the_portals_pages(path, status, title):
    assert_portal_page(Client().get(path), status, title)


@pytest.mark.django_db
@pytest.mark.urls("tests.error_urls")
def test_a_server_error_gets_the_portals_self_contained_page():
    client = Client(raise_request_exception=False)
    html = assert_portal_page(client.get("/test-errors/broken/"), 500, "Une erreur est survenue")
    assert "L'incident a été enregistré" in html
    assert "a bug" not in html  # nothing of the failure itself


def test_the_500_page_renders_without_database_or_session():
    # No django_db mark: any query here fails the test. The request has no session, no user.
    request = RequestFactory().get("/records/")
    response = views.server_error(request)
    assert_portal_page(response, 500, "Une erreur est survenue")


def test_the_500_page_renders_when_the_stylesheet_is_missing_from_the_manifest(monkeypatch):
    def missing(path):
        raise ValueError(f"Missing staticfiles manifest entry for '{path}'")

    monkeypatch.setattr(views, "static", missing)
    response = views.server_error(RequestFactory().get("/"))
    assert 'href="/static/css/portal.css"' in response.content.decode()


# --- A form sent with a stale token (common after the idle timeout) ---------------------------


@pytest.mark.django_db
@pytest.mark.csrf_raw
def test_a_stale_form_says_the_page_expired_and_offers_to_log_in_again():
    user = UserFactory()
    client = Client()
    client.get("/accounts/login/")  # the cookie is set, the form's token is not sent
    response = client.post(
        "/accounts/login/",
        {"username": user.username, "password": PASSWORD},
        HTTP_REFERER="http://testserver/accounts/login/?next=/records/",
    )
    html = assert_portal_page(response, 403, "Cette page a expiré")
    # The code support asks for, as on every error page.
    assert '<p class="error-code">Erreur 403</p>' in html
    assert '<a class="button" href="/accounts/login/">Se reconnecter</a>' in html
    # Not the login page twice under two names.
    assert "Retour à la page précédente" not in html
    assert "rien n'a été enregistré" in html
    # Nothing of what was sent, nor why the token was refused (it helps attackers, not people).
    assert PASSWORD not in html and user.username not in html
    assert "token" not in html.lower().replace("csrfmiddlewaretoken", "")
    assert "no-store" in response["Cache-Control"]
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
@pytest.mark.csrf_raw
def test_a_stale_form_of_a_signed_in_person_offers_the_way_back_not_a_login():
    patient = UserFactory()
    client = logged_in_client(patient)
    response = client.post("/records/upload/", HTTP_REFERER="http://testserver/records/")
    html = assert_portal_page(response, 403, "Cette page a expiré")
    assert '<a class="button" href="/accounts/login/">' not in html
    assert 'href="/records/">Retour à la page précédente</a>' in html


@pytest.mark.django_db
@pytest.mark.csrf_raw
def test_the_way_back_is_the_path_of_the_form_without_its_query():
    nir = make_nir()
    response = Client().post(
        "/enrollment/",
        {"nir": nir, "nir_confirmation": nir},
        HTTP_REFERER="http://testserver/enrollment/?from=letter",
    )
    html = assert_portal_page(response, 403, "Cette page a expiré")
    assert '<a href="/enrollment/">Retour à la page précédente</a>' in html
    assert "from=letter" not in html and nir not in html


@pytest.mark.django_db
@pytest.mark.csrf_raw
def test_the_expired_page_never_links_to_another_site():
    response = Client().post("/accounts/login/", HTTP_REFERER="https://attacker.example/records/")
    html = assert_portal_page(response, 403, "Cette page a expiré")
    assert "attacker.example" not in html
    assert "Retour à la page précédente" not in html


# --- Too many attempts -------------------------------------------------------------------------


@pytest.mark.django_db
def test_too_many_enrolment_requests_get_the_portals_429():
    client = Client()
    for _attempt in range(settings.ENROLLMENT_REQUESTS_PER_CLIENT_PER_HOUR):
        nir = make_nir()
        client.post("/enrollment/", {"nir": nir, "nir_confirmation": nir})
    nir = make_nir()
    response = client.post("/enrollment/", {"nir": nir, "nir_confirmation": nir})
    html = assert_portal_page(response, 429, "Veuillez réessayer plus tard")
    assert '<p class="error-code">Erreur 429</p>' in html
    assert "Trop de tentatives depuis cette connexion. Réessayez dans 60 minutes." in html
    assert "celle-ci n'a pas été prise en compte" in html
    assert response["Retry-After"] == "3600"
    assert nir not in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "title", "line"),
    [("fr", "Veuillez réessayer plus tard", "Erreur 429"), ("en", "Please try later", "Error 429")],
)
def test_too_many_activation_tries_get_the_same_429(language, title, line):
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    with override_settings(ENROLLMENT_CODE_TRIES_PER_CLIENT=0):
        response = client.post(
            "/enrollment/activate/", {"nir": make_nir(), "creation_code": "ABCD-EFGH-JKMN"}
        )
    html = assert_portal_page(response, 429, title, language=language)
    assert f'<p class="error-code">{line}</p>' in html
    assert int(response["Retry-After"]) > 0


# --- Development: DEBUG on, the portal's 404 all the same -------------------------------------


@pytest.mark.django_db
@pytest.mark.urls("tests.error_urls")
@pytest.mark.parametrize("path", ["/nowhere/", "/test-errors/missing/"])
def test_development_shows_the_portals_404_not_djangos_technical_page(path):
    with override_settings(DEBUG=True):
        response = Client().get(path)
    assert_portal_page(response, 404, "Page introuvable")


@pytest.mark.django_db
@pytest.mark.urls("tests.error_urls")
def test_development_keeps_djangos_other_debugging_tools():
    with override_settings(DEBUG=True):
        client = Client(raise_request_exception=False)
        broken = client.get("/test-errors/broken/")
        without_slash = client.get("/accounts/login")
    assert broken.status_code == 500
    assert "RuntimeError" in broken.content.decode()  # the technical 500 page, with its traceback
    assert without_slash.status_code == 301 and without_slash["Location"] == "/accounts/login/"


# --- The language the person chose ------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.urls("tests.error_urls")
@pytest.mark.parametrize(
    ("path", "status", "title"),
    [
        ("/nowhere/", 404, "Page not found"),
        ("/test-errors/forbidden/", 403, "Access refused"),
        ("/test-errors/broken/", 500, "Something went wrong"),
    ],
)
def test_a_person_who_chose_english_gets_the_pages_in_english(path, status, title):
    client = Client(raise_request_exception=False)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert_portal_page(client.get(path), status, title, language="en")


@pytest.mark.django_db
def test_an_error_before_the_language_is_set_still_speaks_the_persons_language():
    # The unknown host is refused by the first middleware, before the one that sets the
    # language; the thread's language (English here, left by a previous request) must not leak.
    with translation.override("en"):
        response = Client().get("/", HTTP_HOST="attacker.example")
        assert_portal_page(response, 400, "Demande incorrecte")
        broken = views.server_error(RequestFactory().get("/"))
    assert_portal_page(broken, 500, "Une erreur est survenue")
