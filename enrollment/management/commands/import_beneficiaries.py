"""``manage.py import_beneficiaries [--quiet] FILE.csv`` (see README, Beneficiaries CSV).

On a terminal it prints a progress line every 2 seconds on its error stream (``--quiet``: none).

A change to a person's opposition (the optional ``opposition`` column) passes the door as the
operator of the machine, and its event names the import and the operating-system user
(``command-line:registry-import:<user>``), as ``export_letters`` names its operator.
"""

import getpass
from functools import partial

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from dmp_portal.csv_import import Progress, import_csv, write_report
from enrollment.services.registry import import_beneficiaries, import_operator
from enrollment.validators import BENEFICIARY_COLUMNS


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user with no passwd entry and no LOGNAME
        return "unknown"


class Command(BaseCommand):
    help = "Upsert the registry of insured people (Vitale reference data) from a CSV file."

    def add_arguments(self, parser):
        parser.add_argument("csv_file")
        parser.add_argument("--quiet", action="store_true", help="No progress lines.")

    def handle(self, *args, csv_file, quiet=False, **options):
        run = partial(import_beneficiaries, operator=import_operator(_os_user()))
        progress = Progress.for_command(self.stderr, quiet)
        report = import_csv(csv_file, BENEFICIARY_COLUMNS, run, progress)
        write_report(self.stdout, report)
        # After the rejected rows: rows taken, but for their opposition value.
        for number, reason in report.ignored:
            self.stdout.write(
                _("row %(number)d: %(reason)s") % {"number": number, "reason": reason}
            )
