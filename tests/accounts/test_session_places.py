"""/accounts/sessions/: the approximate place of each session (« Lyon, France »), from an
optional MaxMind DB (DMP_GEOIP_PATH) built here with mmdb-writer; without one, the network
only; a file production cannot use stops it at start-up."""

from __future__ import annotations

import html
import warnings
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings

from accounts.models import AccountSession
from accounts.services.places import place_of
from dmp_portal.settings.geoip import place_database
from tests.accounts.factories import PASSWORD, UserFactory, add_totp, next_totp_token
from tests.accounts.place_factories import LONDON, LYON, NOWHERE, write_database
from tests.production import production_environ, run_manage

LOGIN = "/accounts/login/"
SESSIONS = "/accounts/sessions/"
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


@pytest.fixture
def database(tmp_path) -> Path:
    return write_database(tmp_path / "places.mmdb")


def browser_login(user, device, *, address: str) -> Client:
    """Both login forms, from a browser of its own at ``address``."""
    client = Client(HTTP_USER_AGENT=FIREFOX, REMOTE_ADDR=address)
    client.post(LOGIN, {"username": user.username, "password": PASSWORD})
    client.get(LOGIN)
    response = client.post(LOGIN, {"otp_token": next_totp_token(device)})
    assert response.status_code == 302, response
    return client


def facts(page: str) -> list[list[str]]:
    """Each session's <dd> values, in order."""
    sessions = page.split('data-testid="session"')[1:]
    return [
        [html.unescape(dd.split("</dd>", 1)[0]) for dd in session.split("<dd>")[1:3]]
        for session in sessions
    ]


@pytest.mark.django_db
def test_the_page_names_the_town_and_country_of_a_session_and_only_the_network_of_another(
    database,
):
    patient = UserFactory()
    device = add_totp(patient)
    with override_settings(DMP_GEOIP_PATH=str(database)):
        lyon = browser_login(patient, device, address=LYON)
        browser_login(patient, device, address=NOWHERE)
        page = lyon.get(SESSIONS).content.decode()

    assert page.count("<dt>Lieu approximatif</dt>") == 2
    assert "<dt>Réseau</dt>" in page
    # The current session first: its network and its place, then the other, without a place.
    assert facts(page) == [["81.250.3.x", "Lyon, France"], ["81.251.3.x", "Inconnu"]]
    assert "aucune base de localisation" not in page
    # The credit the GeoLite2 licence asks for, beside the data.
    assert "Ce produit inclut des données GeoLite2 créées par MaxMind" in html.unescape(page)
    # Only the words of the place are kept with the session, never the address.
    stored = sorted(AccountSession.objects.filter(user=patient).values_list("network", "place"))
    assert stored == [("81.250.3.x", "Lyon, France"), ("81.251.3.x", "")]
    assert LYON not in page


@pytest.mark.django_db
def test_the_place_is_looked_up_once_at_login_and_kept_with_the_session(database, tmp_path):
    patient = UserFactory()
    device = add_totp(patient)
    with override_settings(DMP_GEOIP_PATH=str(database)):
        client = browser_login(patient, device, address=LONDON)
    # The database gone afterwards: the session keeps its place, the page no longer shows any.
    assert AccountSession.objects.get(user=patient).place == "Londres, Royaume-Uni"
    with override_settings(DMP_GEOIP_PATH=""):
        page = client.get(SESSIONS).content.decode()
    assert "Londres" not in page and "Lieu approximatif" not in page


@pytest.mark.django_db
def test_without_a_place_database_the_page_shows_the_network_only_and_says_so():
    patient = UserFactory()
    device = add_totp(patient)
    with override_settings(DMP_GEOIP_PATH=""):
        client = browser_login(patient, device, address=LYON)
        page = html.unescape(client.get(SESSIONS).content.decode())

    assert "<dt>Réseau</dt>" in page and "<dd>81.250.3.x</dd>" in page
    assert "Lieu" not in page and "Lyon" not in page
    assert 'data-testid="place-credit"' not in page
    assert "Ce portail n'utilise aucune base de localisation : seul le réseau est indiqué." in page
    assert AccountSession.objects.get(user=patient).place == ""


@pytest.mark.django_db
def test_a_third_user_sees_nothing_of_the_sessions_and_places_of_another(database):
    patient, other = UserFactory(), UserFactory()
    with override_settings(DMP_GEOIP_PATH=str(database)):
        browser_login(patient, add_totp(patient), address=LYON)
        page = browser_login(other, add_totp(other), address=NOWHERE).get(SESSIONS)
    text = page.content.decode()
    assert text.count('data-testid="session"') == 1
    assert "Lyon" not in text and "81.250.3.x" not in text


@pytest.mark.django_db
def test_a_db_ip_database_is_credited_under_its_licence(tmp_path):
    database = write_database(tmp_path / "dbip-city-lite.mmdb", "DBIP-City-Lite")
    patient = UserFactory()
    with override_settings(DMP_GEOIP_PATH=str(database)):
        client = browser_login(patient, add_totp(patient), address=LYON)
        page = html.unescape(client.get(SESSIONS).content.decode())
    assert "<dd>Lyon, France</dd>" in page
    assert '<a href="https://db-ip.com">Géolocalisation IP par DB-IP</a>' in page
    assert "Creative Commons Attribution 4.0" in page and "GeoLite2" not in page


@pytest.mark.parametrize(
    ("address", "place"),
    [
        (LYON, "Lyon, France"),
        ("::ffff:81.250.200.1", "Lyon, France"),  # IPv4-mapped, as a dual-stack socket gives it
        (LONDON, "Londres, Royaume-Uni"),  # the French names, not the English ones
        ("5.10.0.1", "Allemagne"),  # a country without a town
        ("5.11.0.1", "Aachen, Allemagne"),  # a town named only in English
        (NOWHERE, ""),  # a public address the database does not place
        ("10.1.2.3", ""),  # private, even though this database holds it
        ("192.0.2.77", ""),  # documentation range, idem
        ("127.0.0.1", ""),  # loopback
        ("::1", ""),
        ("", ""),  # unknown
        ("not an address", ""),
    ],
)
def test_place_of_names_a_public_address_in_french_and_nothing_else(database, address, place):
    with override_settings(DMP_GEOIP_PATH=str(database)):
        assert place_of(address) == place


def test_place_of_names_nothing_without_a_database(database):
    with override_settings(DMP_GEOIP_PATH=""):
        assert place_of(LYON) == ""


def test_a_database_replaced_by_a_broken_file_names_nothing_and_lets_the_login_go_on(database):
    with override_settings(DMP_GEOIP_PATH=str(database)):
        assert place_of(LYON) == "Lyon, France"
        database.unlink()
        database.write_bytes(b"not a database")
        assert place_of(LYON) == ""


def test_development_warns_and_goes_on_without_places_when_the_file_cannot_be_used(tmp_path):
    garbage = tmp_path / "garbage.mmdb"
    garbage.write_bytes(b"\x00" * 1000)
    asn = write_database(tmp_path / "asn.mmdb", database_type="GeoLite2-ASN")
    for path, problem in [
        (tmp_path / "missing.mmdb", "cannot be read"),
        (garbage, "is not a MaxMind DB file"),
        (asn, "not one of cities or countries"),
    ]:
        with pytest.warns(RuntimeWarning, match=f"DMP_GEOIP_PATH .*{problem}"):
            assert place_database(str(path), production=False) == ""
        with pytest.raises(
            ImproperlyConfigured, match=f"refuses to start: DMP_GEOIP_PATH .*{problem}"
        ):
            place_database(str(path), production=True)


def test_a_good_database_and_no_database_are_accepted_silently(database):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert place_database(str(database), production=True) == str(database)
        country = write_database(database.with_name("country.mmdb"), "DBIP-Country-Lite")
        assert place_database(str(country), production=True) == str(country)
        assert place_database("", production=True) == ""


def test_production_refuses_to_start_with_a_place_database_it_cannot_read(tmp_path):
    missing = tmp_path / "GeoLite2-City.mmdb"
    result = run_manage(production_environ(DMP_GEOIP_PATH=str(missing)), "check")
    assert result.returncode != 0
    last = result.stderr.splitlines()[-1]
    assert "refuses to start" in last and "DMP_GEOIP_PATH" in last and "cannot be read" in last

    write_database(missing)
    result = run_manage(production_environ(DMP_GEOIP_PATH=str(missing)), "check")
    assert result.returncode == 0, result.stderr
