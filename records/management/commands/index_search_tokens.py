"""``manage.py index_search_tokens``: the search tokens of documents that have none (issue 20,
item 5). ``migrate`` already runs it once (records' migration 0008); run it again after
restoring documents written by a version without search tokens. Safe to run at any time: a
document already indexed is left alone. Prints ``indexed=N`` (untranslated: scripts read it).
"""

from django.core.management.base import BaseCommand

from records.search_tokens import index_missing


class Command(BaseCommand):
    help = "Add the search tokens of the documents that have none."

    def handle(self, *args, **options):
        self.stdout.write(f"indexed={index_missing()}")
