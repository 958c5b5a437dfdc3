"""``manage.py seed_demo``: demo accounts to try the portal; idempotent, refused in production."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from demo import demo_data


class Command(BaseCommand):
    help = "Create the demo data (idempotent). Only on the development SQLite database."

    def handle(self, *args, **options):
        local_sqlite = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
        if not (settings.TESTING or (settings.DEVELOPMENT and local_sqlite)):
            raise CommandError(
                _(
                    "seed_demo is refused outside development on the local SQLite database: "
                    "it creates accounts with published passwords."
                )
            )
        created = demo_data.seed()
        for line in demo_data.describe():
            self.stdout.write(line)
        self.stdout.write(f"created={created}")
