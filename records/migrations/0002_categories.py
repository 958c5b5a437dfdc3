"""The DMP's classes of documents, as rows that rules and filters refer to."""

from django.db import migrations

from records.categories import seed_categories


def seed(apps, schema_editor):
    seed_categories(apps.get_model("records", "Category"))


class Migration(migrations.Migration):
    dependencies = [("records", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
