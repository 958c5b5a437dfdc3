"""``manage.py import_practitioners FILE.csv`` (see README, Practitioners CSV)."""

from django.core.management.base import BaseCommand

from accounts.services import import_practitioners
from accounts.validators import PRACTITIONER_COLUMNS
from dmp_portal.csv_import import import_csv, write_report


class Command(BaseCommand):
    help = "Upsert practitioners from a CSV file and e-mail each new one an activation link."

    def add_arguments(self, parser):
        parser.add_argument("csv_file")

    def handle(self, *args, csv_file, **options):
        report = import_csv(csv_file, PRACTITIONER_COLUMNS, import_practitioners)
        write_report(self.stdout, report)
