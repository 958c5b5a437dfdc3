"""``manage.py import_practitioners [--quiet] FILE.csv`` (see README, Practitioners CSV).

On a terminal it prints a progress line every 2 seconds on its error stream (``--quiet``: none).
"""

from django.core.management.base import BaseCommand

from accounts.services import import_practitioners
from accounts.validators import PRACTITIONER_COLUMNS
from dmp_portal.csv_import import Progress, import_csv, write_report


class Command(BaseCommand):
    help = "Upsert practitioners from a CSV file and e-mail each new one an activation link."

    def add_arguments(self, parser):
        parser.add_argument("csv_file")
        parser.add_argument("--quiet", action="store_true", help="No progress lines.")

    def handle(self, *args, csv_file, quiet=False, **options):
        progress = Progress.for_command(self.stderr, quiet)
        report = import_csv(csv_file, PRACTITIONER_COLUMNS, import_practitioners, progress)
        write_report(self.stdout, report)
