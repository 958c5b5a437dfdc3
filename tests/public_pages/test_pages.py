"""The public pages: open to everyone, the operator's details from settings, linked from every
page's footer, and production refusing to start without those details."""

from __future__ import annotations

import re

import pytest
from django.test import Client, override_settings

from tests.accounts.factories import (
    PractitionerProfileFactory,
    StaffFactory,
    add_totp,
    logged_in_client,
    password_only_client,
)
from tests.production import production_environ, run_manage
from tests.records.factories import patient_with_login

pytestmark = pytest.mark.django_db

PAGES = {
    "/mentions-legales/": "Mentions légales",
    "/donnees-personnelles/": "Données personnelles",
    "/accessibilite/": "Déclaration d'accessibilité",
    "/aide/": "Aide et questions fréquentes",
}

OPERATOR = {
    "DMP_OPERATOR_NAME": "Agence du dossier partagé d'Occitanie",
    "DMP_OPERATOR_ADDRESS": ("Service des inscriptions", "TSA 40000", "31000 TOULOUSE"),
    "DMP_OPERATOR_PHONE": "05 99 00 00 42",
    "DMP_OPERATOR_EMAIL": "aide@dmp-occitanie.example.fr",
    "DMP_DPO_CONTACT": "dpo@dmp-occitanie.example.fr",
    "DMP_OPERATOR_REGISTRATION": "SIREN 987 654 321",
    "DMP_PUBLICATION_DIRECTOR": "Dominique Lefèvre",
    "DMP_HOST_NAME": "Hébergement Santé Sud",
    "DMP_HOST_ADDRESS": ("12 allée des Serveurs", "34000 MONTPELLIER"),
    "DMP_HOST_PHONE": "04 99 00 00 43",
}

# Where each value must show (the legal notice names the publisher and the host in full).
SHOWN_ON = {
    "/mentions-legales/": (
        "Agence du dossier partagé d'Occitanie",
        "Service des inscriptions<br>TSA 40000<br>31000 TOULOUSE",
        "05 99 00 00 42",
        'href="mailto:aide@dmp-occitanie.example.fr"',
        "SIREN 987 654 321",
        "Dominique Lefèvre",
        "Hébergement Santé Sud",
        "12 allée des Serveurs<br>34000 MONTPELLIER",
        "04 99 00 00 43",
    ),
    "/donnees-personnelles/": (
        "Agence du dossier partagé d'Occitanie, Service des inscriptions, TSA 40000, "
        "31000 TOULOUSE",
        "Pour joindre le délégué à la protection des données : dpo@dmp-occitanie.example.fr.",
        "www.cnil.fr/fr/plaintes",
        "3 place de Fontenoy, TSA 80715, 75334 Paris Cedex 07",
    ),
    "/accessibilite/": (
        "Agence du dossier partagé d'Occitanie s'engage",
        "Le portail est non conforme",
        'href="mailto:aide@dmp-occitanie.example.fr"',
        "05 99 00 00 42",
        "Défenseur des droits",
    ),
    "/aide/": (
        "Appelez le 05 99 00 00 42",
        'href="mailto:aide@dmp-occitanie.example.fr"',
        "codes de secours",
    ),
}


def _text(response) -> str:
    return response.content.decode()


def heading_levels(html: str) -> list[int]:
    return [int(level) for level in re.findall(r"<h([1-6])[\s>]", html)]


@pytest.mark.parametrize("path", sorted(PAGES))
def test_each_page_answers_an_anonymous_visitor_in_french(path):
    response = Client().get(path)
    assert response.status_code == 200
    html = _text(response)
    assert '<html lang="fr">' in html
    assert f"<h1>{PAGES[path]}</h1>" in html.replace("&#x27;", "'")
    # Headings in order: one h1 first, never a level skipped on the way down.
    levels = heading_levels(html.split("<main", 1)[1])
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b <= a + 1 for a, b in zip(levels, levels[1:], strict=False)), levels


@pytest.mark.parametrize("path", sorted(PAGES))
def test_each_page_shows_the_operator_from_settings(path):
    with override_settings(**OPERATOR):
        html = _text(Client().get(path)).replace("&#x27;", "'")
    missing = [value for value in SHOWN_ON[path] if value not in html]
    assert missing == []
    # The development examples are gone once the settings name the operator.
    assert "(exemple)" not in html and "example.org" not in html


def test_development_shows_examples_that_say_so():
    html = _text(Client().get("/mentions-legales/"))
    assert html.count("(exemple)") >= 3
    assert "numéro d&#x27;exemple" in html


def test_operator_values_are_escaped():
    with override_settings(DMP_OPERATOR_NAME="<script>alert(1)</script>"):
        html = _text(Client().get("/mentions-legales/"))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_pages_speak_english_once_chosen():
    client = Client()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = _text(client.get("/donnees-personnelles/"))
    assert '<html lang="en">' in html
    assert "<h1>Personal data</h1>" in html
    assert "article 9(2)(h) of the GDPR" in html


@pytest.mark.parametrize("path", sorted(PAGES))
def test_a_post_is_refused(path):
    assert Client().post(path).status_code == 405


FOOTER_LINKS = (
    'href="/aide/"',
    'href="/mentions-legales/"',
    'href="/donnees-personnelles/"',
    'href="/accessibilite/"',
    "Accessibilité : non conforme",
)


def _footer(html: str) -> str:
    return html.split('<footer class="site-footer">', 1)[1]


def test_every_role_finds_the_links_in_the_footer():
    patient, patient_client = patient_with_login()
    practitioner = PractitionerProfileFactory().user
    staff = StaffFactory()
    add_totp(staff)
    pages = {
        "anonymous": (Client(), "/"),
        "patient": (patient_client, "/records/"),
        "practitioner": (logged_in_client(practitioner), "/pro/"),
        "staff": (logged_in_client(staff), "/staff/"),
        "second factor pending": (password_only_client(staff), "/accounts/login/"),
    }
    for role, (client, path) in pages.items():
        response = client.get(path)
        assert response.status_code == 200, role
        footer = _footer(_text(response)).replace("&#x27;", "'")
        missing = [link for link in FOOTER_LINKS if link not in footer]
        assert missing == [], role


def test_a_person_stopped_at_the_second_factor_reads_the_help():
    """The help for a lost phone is needed exactly there; the gate still holds elsewhere."""
    staff = StaffFactory()
    add_totp(staff)
    client = password_only_client(staff)
    assert client.get("/aide/").status_code == 200
    assert client.get("/pro/").status_code == 302


OPERATOR_VARIABLES = (
    "DMP_OPERATOR_NAME",
    "DMP_OPERATOR_ADDRESS",
    "DMP_OPERATOR_PHONE",
    "DMP_OPERATOR_EMAIL",
    "DMP_DPO_CONTACT",
    "DMP_OPERATOR_REGISTRATION",
    "DMP_PUBLICATION_DIRECTOR",
    "DMP_HOST_NAME",
    "DMP_HOST_ADDRESS",
    "DMP_HOST_PHONE",
)


# What only the postal letter prints: its defaults are examples too (dmp_portal/settings/letter.py).
LETTER_VARIABLES = ("DMP_LETTER_PLACE", "DMP_LETTER_SIGNATORY", "DMP_LETTER_RETENTION")


@pytest.mark.parametrize("missing", OPERATOR_VARIABLES + LETTER_VARIABLES)
def test_production_refuses_to_start_without_the_operator(missing):
    result = run_manage(production_environ(**{missing: None}), "check")
    assert result.returncode != 0
    assert f"missing {missing}" in result.stderr


def test_production_starts_with_every_detail_and_names_every_missing_one():
    assert run_manage(production_environ(), "check").returncode == 0
    result = run_manage(production_environ(**dict.fromkeys(LETTER_VARIABLES)), "check")
    assert "missing " + ", ".join(LETTER_VARIABLES) in result.stderr


def test_development_prints_the_letters_examples(tmp_path):
    """Outside production the letter's details have defaults, and they say they are examples."""
    script = (
        "from django.conf import settings; "
        "print(settings.DMP_LETTER_SIGNATORY, settings.DMP_LETTER_RETENTION, sep='|')"
    )
    environ = production_environ(
        DMP_ENV="development",
        DMP_VAR_DIR=str(tmp_path),
        DATABASE_URL=None,
        CELERY_BROKER_URL=None,
        **dict.fromkeys(LETTER_VARIABLES),
    )
    result = run_manage(environ, "shell", "-c", script)
    assert result.returncode == 0, result.stderr
    signatory, retention = result.stdout.strip().splitlines()[-1].split("|")
    assert signatory == "('Le responsable du service des inscriptions (exemple)',)"
    assert retention == "un an après l'envoi de ce courrier (durée d'exemple)"


def test_an_address_is_read_as_lines():
    script = "from django.conf import settings; print(settings.DMP_HOST_ADDRESS)"
    environ = production_environ(DMP_HOST_ADDRESS=" 3 rue Basse ; ; 13001 MARSEILLE ")
    result = run_manage(environ, "shell", "-c", script)
    assert result.stdout.strip().splitlines()[-1] == "('3 rue Basse', '13001 MARSEILLE')", (
        result.stderr
    )


def test_a_line_break_in_a_value_is_refused():
    result = run_manage(production_environ(DMP_OPERATOR_NAME="Agence\nbis"), "check")
    assert result.returncode != 0
    assert "DMP_OPERATOR_NAME holds a line break" in result.stderr
