"""``manage.py import_practitioners FILE.csv`` (see README, Practitioners CSV)."""

import csv

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from accounts.services import import_practitioners
from accounts.validators import PRACTITIONER_COLUMNS


class Command(BaseCommand):
    help = "Upsert practitioners from a CSV file and e-mail each new one an activation link."

    def add_arguments(self, parser):
        parser.add_argument("csv_file")

    def handle(self, *args, **options):
        try:
            # utf-8-sig: spreadsheets often prefix a byte-order mark.
            with open(options["csv_file"], encoding="utf-8-sig", newline="") as handle:
                reader = csv.DictReader(handle)
                missing = [c for c in PRACTITIONER_COLUMNS if c not in (reader.fieldnames or [])]
                if missing:
                    raise CommandError(
                        _("Missing columns: %(missing)s. Expected header: %(header)s")
                        % {"missing": ", ".join(missing), "header": ",".join(PRACTITIONER_COLUMNS)}
                    )
                # Line numbers as a spreadsheet shows them: the header is line 1.
                rows = ((reader.line_num, row) for row in reader)
                report = import_practitioners(rows)
        except FileNotFoundError as exc:
            raise CommandError(
                _("File not found: %(path)s") % {"path": options["csv_file"]}
            ) from exc
        except UnicodeDecodeError as exc:
            raise CommandError(_("The file is not UTF-8 text.")) from exc
        except OSError as exc:
            raise CommandError(
                _("Cannot read %(path)s: %(reason)s")
                % {"path": options["csv_file"], "reason": exc.strerror}
            ) from exc
        # The summary first (scripts read it), then one line per rejected row.
        self.stdout.write(report.summary())
        for number, reason in report.rejected:
            self.stdout.write(
                _("row %(number)d: %(reason)s") % {"number": number, "reason": reason}
            )
