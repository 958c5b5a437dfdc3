from django.db import migrations, models

from accounts.names import search_key


def fill_first_name_keys(apps, schema_editor):
    """The first-name-first key of every practitioner already in the directory (save() keeps
    it after)."""
    profiles = apps.get_model("accounts", "PractitionerProfile")
    batch = []
    for profile in profiles.objects.only("pk", "last_name", "first_name").iterator(chunk_size=2000):
        profile.first_name_search_key = search_key(profile.first_name, profile.last_name)
        batch.append(profile)
        if len(batch) == 2000:
            profiles.objects.bulk_update(batch, ["first_name_search_key"])
            batch = []
    profiles.objects.bulk_update(batch, ["first_name_search_key"])


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0004_user_language"),
    ]

    operations = [
        migrations.AddField(
            model_name="practitionerprofile",
            name="first_name_search_key",
            field=models.CharField(
                default="",
                editable=False,
                max_length=201,
                verbose_name="search key, first name first",
            ),
        ),
        migrations.RunPython(fill_first_name_keys, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="practitionerprofile",
            index=models.Index(
                fields=["first_name_search_key"],
                name="practitioner_first_name_key",
                opclasses=["varchar_pattern_ops"],
            ),
        ),
    ]
