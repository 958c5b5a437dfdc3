"""``manage.py backup OUTDIR``: the database's dump, the stored files and their manifest
(README, Backup and restore; the work is in ``dmp_portal.backups``)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from dmp_portal.backups import BackupError, take_backup


class Command(BaseCommand):
    help = (
        "Write a consistent backup into OUTDIR (new or empty): the database (pg_dump, custom "
        "format, one snapshot), every stored file the database names (documents and letters, "
        "copied as stored: ciphertext) and manifest.json (SHA-256 of each). Never the keys: "
        "master keys, the blind index key, the audit signing key, the HSM's keys and the "
        "ledger of destroyed keys are backed up separately (README, Encryption at rest)."
    )

    def add_arguments(self, parser):
        parser.add_argument("outdir", help="a folder that does not exist yet, or is empty")

    def handle(self, *args, outdir: str, **options):
        try:
            summary = take_backup(Path(outdir), progress=self.stderr.write)
        except BackupError as error:
            raise CommandError(str(error)) from error
        for name in summary.missing:
            self.stderr.write(f"missing file={name}")
        self.stdout.write(
            f"backup={summary.outdir} files={summary.files} bytes={summary.bytes} "
            f"missing={len(summary.missing)} seconds={summary.seconds:.1f}"
        )
