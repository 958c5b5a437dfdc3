"""French by default, whatever the browser asks; English when the person chooses it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from accounts.models import User
from tests.access_control.factories import enrolled_patient, grant, practitioner_with_login
from tests.accounts.factories import UserFactory, confirm_pending_emails, password_only_client
from tests.records.factories import patient_with_login

pytestmark = pytest.mark.django_db


def test_pages_are_in_french_even_for_an_english_browser():
    response = Client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    content = response.content.decode()
    assert '<html lang="fr">' in content
    assert "Se connecter" in content


def test_english_when_chosen_with_the_switcher():
    client = Client()
    page = client.get("/accounts/login/")
    assert 'name="language" value="en"' in page.content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    content = client.get("/accounts/login/").content.decode()
    assert '<html lang="en">' in content
    assert "Log in" in content and "Se connecter" not in content


def _wants_e_mails(client: Client) -> None:
    response = client.post(
        "/access/settings/",
        {"contact_email": "patient@example.fr", "notify_first_access": "on"},
    )
    assert response.status_code == 302
    confirm_pending_emails()  # only a confirmed address receives notifications


def _languages() -> dict[str, str]:
    return dict(User.objects.values_list("username", "language"))


def test_a_signed_in_switch_is_remembered_for_the_e_mails_at_once(
    django_capture_on_commit_callbacks,
):
    patient, client, _nir = enrolled_patient()
    _wants_e_mails(client)
    _other, _other_client = patient_with_login()
    profile, pro = practitioner_with_login()
    grant(client, profile.rpps)
    before = _languages()

    # Django's switch as before: the cookie, then back to the page; and the account remembers.
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/records/"})
    assert (response.status_code, response["Location"]) == (302, "/records/")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert _languages() == {**before, patient.username: "en"}  # no one else's

    # No new login: the next e-mail to this patient is already in English.
    with django_capture_on_commit_callbacks(execute=True):
        assert pro.get(f"/pro/patients/{patient.pk}/").status_code == 200
    assert [m.subject for m in mail.outbox] == [
        "A health professional accessed your shared medical record for the first time"
    ]

    client.post("/i18n/setlang/", {"language": "fr", "next": "/records/"})
    patient.refresh_from_db()
    assert patient.language == "fr"


@pytest.mark.parametrize("who", ["visitor", "half signed in"])
def test_a_switch_without_both_factors_changes_no_account(who):
    user = UserFactory.create(kind="patient")
    client = Client() if who == "visitor" else password_only_client(user)
    before = _languages()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert (response.status_code, response["Location"]) == (302, "/accounts/login/")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert _languages() == before


def test_a_language_the_portal_does_not_speak_changes_nothing():
    patient, client = patient_with_login()
    response = client.post("/i18n/setlang/", {"language": "de", "next": "/records/"})
    assert response.status_code == 302  # Django's switch, unchanged (the pages stay French)
    patient.refresh_from_db()
    assert patient.language == ""


def test_the_french_catalog_has_no_missing_or_fuzzy_entry():
    catalog = Path(__file__).resolve().parent.parent / "locale/fr/LC_MESSAGES/django.po"
    for option in ("--untranslated", "--only-fuzzy"):
        leftovers = subprocess.run(
            ["msgattrib", option, "--no-wrap", str(catalog)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        entries = [
            line
            for line in leftovers.splitlines()
            if line.startswith("msgid ") and line != 'msgid ""'
        ]
        assert entries == [], f"{option}: {entries}"


def test_every_translatable_text_of_the_code_is_in_the_french_catalog(tmp_path):
    """A string marked for translation but missing from the catalog shows in English on French
    pages, and the catalog checks above cannot see it: extract the strings again, as
    `makemessages` does, into a copy, and nothing may come out untranslated."""
    root = Path(__file__).resolve().parent.parent
    skipped = {".git", ".venv", "node_modules", "var", "test-artifacts", ".pytest_cache"}
    copy = tmp_path / "src"
    shutil.copytree(
        root,
        copy,
        ignore=lambda folder, names: [n for n in names if n in skipped or n.endswith(".mo")],
    )
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "fr", "--no-obsolete", "-v", "0"],
        cwd=copy,
        env=dict(os.environ, PYTHONPATH=str(copy)),
        check=True,
        capture_output=True,
    )
    catalog = copy / "locale/fr/LC_MESSAGES/django.po"
    leftovers = subprocess.run(
        ["msgattrib", "--only-fuzzy", "--no-wrap", str(catalog)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    untranslated = subprocess.run(
        ["msgattrib", "--untranslated", "--no-wrap", str(catalog)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    missing = [
        line
        for line in (leftovers + untranslated).splitlines()
        if line.startswith("msgid ") and line != 'msgid ""'
    ]
    assert missing == [], f"not in the French catalog: {missing}"
