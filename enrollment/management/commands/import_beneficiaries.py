"""``manage.py import_beneficiaries FILE.csv`` (see README, Beneficiaries CSV)."""

import csv

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from enrollment.services.registry import import_beneficiaries
from enrollment.validators import BENEFICIARY_COLUMNS


class Command(BaseCommand):
    help = "Upsert the registry of insured people (Vitale reference data) from a CSV file."

    def add_arguments(self, parser):
        parser.add_argument("csv_file")

    def handle(self, *args, csv_file, **options):
        try:
            with open(csv_file, encoding="utf-8-sig", newline="") as handle:
                reader = csv.DictReader(handle)
                missing = [c for c in BENEFICIARY_COLUMNS if c not in (reader.fieldnames or [])]
                if missing:
                    raise CommandError(
                        _("Missing columns: %(missing)s. Expected header: %(header)s")
                        % {"missing": ", ".join(missing), "header": ",".join(BENEFICIARY_COLUMNS)}
                    )
                # Line numbers as a spreadsheet shows them: the header is line 1.
                report = import_beneficiaries((reader.line_num, row) for row in reader)
        except FileNotFoundError as exc:
            raise CommandError(_("File not found: %(path)s") % {"path": csv_file}) from exc
        except UnicodeDecodeError as exc:
            raise CommandError(_("The file is not UTF-8 text.")) from exc
        except OSError as exc:
            raise CommandError(
                _("Cannot read %(path)s: %(reason)s") % {"path": csv_file, "reason": exc.strerror}
            ) from exc
        # The summary first (scripts read it), then one line per rejected row.
        self.stdout.write(report.summary())
        for number, reason in report.rejected:
            self.stdout.write(
                _("row %(number)d: %(reason)s") % {"number": number, "reason": reason}
            )
