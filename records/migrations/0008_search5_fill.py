"""Search tokens for the documents written before them (issue 20, item 5), so that search keeps
finding them as soon as ``migrate`` ends. Titles are decrypted with the application's keys, so
this runs the current code (``records.search_tokens.index_missing``), not the historical models:
``manage.py index_search_tokens`` does the same at any later time, and this step may be
squashed away once every database has run it."""

from django.db import migrations

from records.search_tokens import index_missing


def fill(apps, schema_editor):
    index_missing()


class Migration(migrations.Migration):
    dependencies = [("records", "0007_search5"), ("crypto", "0001_initial")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
