"""``manage.py seed_demo``: demo accounts to try the portal; idempotent, refused in production."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from dmp_portal import demo


class Command(BaseCommand):
    help = "Create the demo data (idempotent). Refused in production mode."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError(
                _(
                    "seed_demo is refused in production mode: it creates accounts "
                    "with published passwords."
                )
            )
        created = demo.seed()
        for line in demo.describe():
            self.stdout.write(line)
        self.stdout.write(f"created={created}")
