"""Seed the profession rules table with the defaults of access_control.profession_defaults."""

from django.db import migrations

from access_control.profession_defaults import seed_profession_rules

PROFESSIONS = [
    "medecin", "infirmier", "pharmacien", "masseur-kinesitherapeute", "chirurgien-dentiste",
    "sage-femme", "orthophoniste", "orthoptiste", "pedicure-podologue", "ergotherapeute",
    "psychomotricien", "dieteticien", "manipulateur-erm", "audioprothesiste", "opticien-lunetier",
]


def seed(apps, schema_editor):
    seed_profession_rules(apps.get_model("access_control", "ProfessionRule"),
                          apps.get_model("records", "Category"), PROFESSIONS)


class Migration(migrations.Migration):
    dependencies = [("access_control", "0002_consents"), ("records", "0003_more_categories")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
