"""``manage.py import_beneficiaries FILE.csv`` (see README, Beneficiaries CSV)."""

from django.core.management.base import BaseCommand

from dmp_portal.csv_import import import_csv, write_report
from enrollment.services.registry import import_beneficiaries
from enrollment.validators import BENEFICIARY_COLUMNS


class Command(BaseCommand):
    help = "Upsert the registry of insured people (Vitale reference data) from a CSV file."

    def add_arguments(self, parser):
        parser.add_argument("csv_file")

    def handle(self, *args, csv_file, **options):
        report = import_csv(csv_file, BENEFICIARY_COLUMNS, import_beneficiaries)
        write_report(self.stdout, report)
