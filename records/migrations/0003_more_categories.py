"""Categories added to the defaults after the first release (psychiatric reports)."""

from django.db import migrations

from records.categories import seed_categories


def seed(apps, schema_editor):
    seed_categories(apps.get_model("records", "Category"))


class Migration(migrations.Migration):
    dependencies = [("records", "0002_categories")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
