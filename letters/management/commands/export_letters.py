"""``manage.py export_letters OUTDIR [--operator USERNAME] [--quiet]``: hand the letters to the
mail house, in batches of at most ``letters.services.EXPORT_BATCH_LETTERS`` letters, one folder
each, printed as it is committed; on a terminal, a progress line per batch on the error stream
(``--quiet``: none).

Each letter exported is recorded on its recipient's audit chain, naming who exported it. With
``--operator``, that is a staff account, which must pass the door. Without it (the contract's
``export_letters OUTDIR``, run from the server's shell, often by a scheduler), the operator is
the machine's: the event has no account as actor and its reason names the operating-system user
(``command-line:<user>``); whoever can run this command can read the keys anyway.
"""

import getpass
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from accounts.models import User
from letters.services import ExportRefused, export_batches


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user with no passwd entry and no LOGNAME
        return "unknown"


class Command(BaseCommand):
    help = (
        "Write every rendered, not yet dispatched letter to OUTDIR/<batch-id>/ (one PDF each, "
        "manifest.csv sorted by postcode, a .sha256 per file, window-test.pdf), mark them "
        "dispatched and print the batch directory. Each export is audited on the recipient's "
        "chain, naming --operator (a staff login) or else the operating-system user."
    )

    def add_arguments(self, parser):
        parser.add_argument("outdir")
        parser.add_argument(
            "--operator",
            metavar="USERNAME",
            help="login identifier of the staff member running the export",
        )
        parser.add_argument("--quiet", action="store_true", help="No progress lines.")

    def handle(self, *args, outdir, operator=None, quiet=False, **options):
        staff = None
        if operator:
            staff = User.objects.filter(username=operator).first()
            if staff is None:
                raise CommandError(
                    _("Unknown operator %(username)s: give the login of a staff account.")
                    % {"username": operator}
                )
        show_progress = not quiet and self.stderr.isatty()
        folders = 0
        try:
            for folder in export_batches(
                Path(outdir), operator=staff, command_line_user=_os_user()
            ):
                folders += 1
                self.stdout.write(str(folder))
                if show_progress:
                    self.stderr.write(_("batches exported: %(count)d") % {"count": folders})
        except ExportRefused:
            raise CommandError(
                _("This account may not export letters: nothing was exported.")
            ) from None
        if not folders:
            self.stderr.write(_("No letter is waiting to be dispatched."))
