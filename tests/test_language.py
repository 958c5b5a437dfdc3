"""French by default, whatever the browser asks; English when the person chooses it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

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
