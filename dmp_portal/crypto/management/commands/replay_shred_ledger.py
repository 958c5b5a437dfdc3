"""``manage.py replay_shred_ledger [--ledger PATH]``: after a restore, destroy again every data
key the ledger of destroyed keys lists (README, Encryption at rest, Backups and restores)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from dmp_portal.crypto.datakeys import replay_ledger
from dmp_portal.crypto.ledger import MalformedLedger, ledger_path


class Command(BaseCommand):
    help = (
        "Destroy every data key listed in the ledger of destroyed keys that the database still "
        "holds (run after every restore, before opening the service); idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--ledger",
            help="The ledger to replay (default: the DMP_SHRED_LEDGER_PATH setting).",
        )

    def handle(self, *args, ledger=None, **options):
        path = Path(ledger) if ledger else ledger_path()
        try:
            counts = replay_ledger(path)
        except MalformedLedger as error:
            raise CommandError(
                _(
                    "Line %(number)d of the ledger %(path)s is malformed: expected “<data key "
                    "uid> <UTC time as YYYY-MM-DDTHH:MM:SSZ>”, found “%(line)s”. Nothing was "
                    "replayed."
                )
                % {
                    "number": error.number,
                    "path": path,
                    "line": error.line[:80],
                }
            ) from error
        except FileNotFoundError as error:
            raise CommandError(
                _(
                    "The ledger %(path)s does not exist: nothing was replayed. If no key was "
                    "ever destroyed, create it empty (touch %(path)s) and run this again."
                )
                % {"path": path}
            ) from error
        except OSError as error:
            raise CommandError(
                _("Cannot read the ledger %(path)s: %(reason)s")
                % {"path": path, "reason": error.strerror}
            ) from error
        self.stdout.write(
            f"replayed={counts.replayed} already={counts.already} unknown={counts.unknown}"
        )
