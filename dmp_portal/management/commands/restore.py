"""``manage.py restore INDIR``: a fresh instance from a backup, then the ledger of destroyed
keys replayed and the audit trail verified (README, Backup and restore; the work is in
``dmp_portal.restores``)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from dmp_portal.backups import BackupError
from dmp_portal.crypto.ledger import ledger_path
from dmp_portal.restores import restore_backup


class Command(BaseCommand):
    help = (
        "Restore a backup made by `manage.py backup` into a new, empty database and storage: "
        "checks every hash first, then pg_restore, the files, replay_shred_ledger and "
        "verify_audit. Run it as the owner role (the migrate URL in production). The keys are "
        "not in the backup: the configuration's keys must be those of the backed-up instance."
    )

    def add_arguments(self, parser):
        parser.add_argument("indir", help="the folder `manage.py backup` wrote")
        parser.add_argument(
            "--ledger",
            help="the ledger of destroyed keys to replay (default: DMP_SHRED_LEDGER_PATH); "
            "give its latest copy when the live one was lost with the server",
        )

    def handle(self, *args, indir: str, ledger: str | None = None, **options):
        try:
            summary = restore_backup(
                Path(indir),
                ledger_path=Path(ledger) if ledger else ledger_path(),
                progress=self.stderr.write,
            )
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(summary.replay)
        self.stdout.write(summary.audit)
        self.stdout.write(
            f"restored files={summary.files} already={summary.already} "
            f"seconds={summary.seconds:.1f}"
        )
        self.stderr.write("next: start web, worker and beat")
