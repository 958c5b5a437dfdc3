"""The practitioner's city and search key: imported from the directory, kept by every save, and
filled by the migration for the practitioners already there."""

from __future__ import annotations

import importlib
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

from accounts.models import PractitionerProfile
from accounts.names import search_key
from tests.accounts.factories import PractitionerProfileFactory

pytestmark = pytest.mark.django_db


def _import(tmp_path, text: str) -> None:
    path = tmp_path / "practitioners.csv"
    path.write_text(text, encoding="utf-8")
    call_command("import_practitioners", str(path), stdout=StringIO())


def test_search_key_ignores_accents_case_ligatures_and_hyphens():
    assert search_key("Lefèvre-Cœur", "Hélène") == "lefevre coeur helene"
    assert search_key("  D'ARC ", "Jeanne") == "d arc jeanne"
    assert search_key("-é-") == "e"


def test_the_city_is_imported_and_a_file_without_the_column_keeps_it(tmp_path):
    _import(
        tmp_path,
        "rpps,last_name,first_name,profession,specialty,email,city\n"
        "10000000009,Martin,Hélène,medecin,Cardiologie,h.martin@example.fr,Brest\n",
    )
    profile = PractitionerProfile.objects.get(rpps="10000000009")
    assert (profile.city, profile.search_key) == ("Brest", "martin helene")
    _import(
        tmp_path,
        "rpps,last_name,first_name,profession,specialty,email\n"
        "10000000009,Martin-Roux,Hélène,medecin,Cardiologie,h.martin@example.fr\n",
    )
    profile.refresh_from_db()
    assert (profile.city, profile.search_key) == ("Brest", "martin roux helene")


def test_a_save_of_the_names_only_keeps_the_key():
    profile = PractitionerProfileFactory.create(last_name="Durand")
    profile.last_name = "Élie"
    profile.save(update_fields=["last_name"])
    assert PractitionerProfile.objects.get(pk=profile.pk).search_key == "elie camille"


def test_the_migration_fills_the_key_of_existing_practitioners():
    profile = PractitionerProfileFactory.create(last_name="Lefèvre", first_name="Éloïse")
    PractitionerProfile.objects.filter(pk=profile.pk).update(search_key="")
    migration = importlib.import_module("accounts.migrations.0003_practitioner_city_search_key")
    migration.fill_search_keys(apps, None)
    assert PractitionerProfile.objects.get(pk=profile.pk).search_key == "lefevre eloise"


def test_the_first_name_first_key_is_kept_by_every_save_and_filled_by_its_migration():
    profile = PractitionerProfileFactory.create(last_name="Lefèvre-Cœur", first_name="Hélène")
    assert profile.first_name_search_key == "helene lefevre coeur"
    profile.first_name = "Éloïse"
    profile.save(update_fields=["first_name"])
    assert PractitionerProfile.objects.get(pk=profile.pk).first_name_search_key == (
        "eloise lefevre coeur"
    )
    PractitionerProfile.objects.filter(pk=profile.pk).update(first_name_search_key="")
    migration = importlib.import_module(
        "accounts.migrations.0005_practitioner_first_name_search_key"
    )
    migration.fill_first_name_keys(apps, None)
    assert PractitionerProfile.objects.get(pk=profile.pk).first_name_search_key == (
        "eloise lefevre coeur"
    )
