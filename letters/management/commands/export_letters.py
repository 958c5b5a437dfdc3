"""``manage.py export_letters OUTDIR``: hand the rendered letters to the mail house."""

from pathlib import Path

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from letters.services import export_batch


class Command(BaseCommand):
    help = (
        "Write every rendered, not yet dispatched letter to OUTDIR/<batch-id>/ (one PDF each, "
        "manifest.csv sorted by postcode, a .sha256 per file, window-test.pdf), mark them "
        "dispatched and print the batch directory."
    )

    def add_arguments(self, parser):
        parser.add_argument("outdir")

    def handle(self, *args, outdir, **options):
        folder = export_batch(Path(outdir))
        if folder is None:
            self.stderr.write(_("No letter is waiting to be dispatched."))
            return
        self.stdout.write(str(folder))
