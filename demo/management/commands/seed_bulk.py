"""``manage.py seed_bulk``: synthetic encrypted records at scale, for load tests only."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils.translation import gettext as _

from demo.bulk_seed import SeedPlan, seed


class Command(BaseCommand):
    help = (
        "Create N synthetic patients with M encrypted documents each (load tests). Refused in "
        "production unless --force-production."
    )

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, required=True)
        parser.add_argument("--documents-per-patient", type=int, default=10)
        parser.add_argument(
            "--no-files",
            action="store_true",
            help="do not write each document's small encrypted file (rows only)",
        )
        parser.add_argument("--workers", type=int, default=2, help="processes sharing the work")
        parser.add_argument("--seed", type=int, default=0, help="random seed of the shapes")
        parser.add_argument(
            "--force-production",
            action="store_true",
            help="run even with DMP_ENV=production (never on a database holding real people)",
        )

    def handle(self, *args, **options):
        if settings.PRODUCTION and not options["force_production"]:
            raise CommandError(
                _(
                    "seed_bulk is refused in production: it fills the database with fictitious "
                    "patients. Add --force-production only on a load-test database."
                )
            )
        if connection.vendor != "postgresql":
            # Checked before anything is written: the report ends with the database's size,
            # which only PostgreSQL gives (pg_database_size); SQLite used to get the rows, then
            # a crash.
            raise CommandError(
                _(
                    "seed_bulk needs PostgreSQL: on the development SQLite database, run it under "
                    "scripts/testenv.py (see README)."
                )
            )
        if options["patients"] < 1 or options["documents_per_patient"] < 0:
            raise CommandError(
                _("--patients must be at least 1 and --documents-per-patient 0 or more.")
            )
        report = seed(
            SeedPlan(
                patients=options["patients"],
                documents_per_patient=options["documents_per_patient"],
                files=not options["no_files"],
                workers=max(1, options["workers"]),
                seed=options["seed"],
            )
        )
        self.stdout.write(report.summary())
