"""The DMP's classes of documents, as rows that rules and filters refer to."""

from django.db import migrations

CATEGORIES = [
    ("synthese", "Synthèse médicale", "Medical summary"),
    ("traitements", "Traitements et soins", "Treatments and care"),
    ("comptes-rendus", "Comptes rendus", "Reports"),
    ("imagerie", "Imagerie médicale", "Medical imaging"),
    ("biologie", "Biologie", "Laboratory results"),
    ("prevention", "Prévention et vaccination", "Prevention and vaccination"),
    ("certificats", "Certificats", "Certificates"),
    ("directives-anticipees", "Directives anticipées", "Advance directives"),
    ("autres", "Autres documents", "Other documents"),
]


def seed(apps, schema_editor):
    Category = apps.get_model("records", "Category")
    for position, (code, label_fr, label_en) in enumerate(CATEGORIES):
        Category.objects.update_or_create(
            code=code, defaults={"label_fr": label_fr, "label_en": label_en,
                                 "position": position},
        )


class Migration(migrations.Migration):
    dependencies = [("records", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
