"""``manage.py purge_records [--dry-run] [--account ID]``: purge the closed records whose
archive period ended (README, Archive and purge); the daily beat task does the same.

The output names records by their account's random id, closure date and archive end only, in
``key=value`` lines that scripts read (untranslated); refusals are French sentences on stderr
with a non-zero exit. The door decides (``policy.decide``, ``Action.PURGE_RECORD``) and records
the purge, and every refusal (``--dry-run`` included), naming the operating-system user who ran
the command (``command-line:<user>``), as ``export_letters`` does.
"""

import getpass
import uuid

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from access_control.decisions import CommandLineOperator
from access_control.models import RecordClosure
from access_control.purge import (
    PurgeRefused,
    check_purgeable,
    purge_due_records,
    purge_record,
    purgeable,
)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user with no passwd entry and no LOGNAME
        return "unknown"


def _line(closure: RecordClosure) -> str:
    closed = timezone.localdate(closure.closed_at)
    return f"account={closure.patient_id} closed={closed} archive_until={closure.archive_until}"


class Command(BaseCommand):
    help = (
        "Purge every closed record whose archive period ended (data key destroyed, files "
        "deleted, blind indexes erased, account made unusable); --dry-run lists them and "
        "changes nothing; --account purges one record, refused within its archive period."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="list what would be purged (account id, closure date, archive end) only",
        )
        parser.add_argument(
            "--account", metavar="ID", help="the account id (UUID) of one record to purge"
        )

    def handle(self, *args, dry_run=False, account=None, **options):
        today = timezone.localdate()
        if account is not None:
            self._one(_account_id(account), dry_run)
            return
        if dry_run:
            closures = list(purgeable(today))
            for closure in closures:
                self.stdout.write(f"would_purge {_line(closure)}")
            self.stdout.write(f"would_purge={len(closures)}")
            return
        outcome = purge_due_records(operator=CommandLineOperator(_os_user()), today=today)
        for patient_id in outcome.purged:
            self.stdout.write(f"purged account={patient_id}")
        self.stdout.write(f"purged={len(outcome.purged)} failed={len(outcome.failed)}")
        if outcome.failed:
            raise CommandError(
                _("Records not purged: %(count)s (the log names their account ids); run again.")
                % {"count": len(outcome.failed)}
            )

    def _one(self, patient_id: uuid.UUID, dry_run: bool) -> None:
        operator = CommandLineOperator(_os_user())
        try:
            closure = check_purgeable(patient_id, operator=operator)
            if closure.purged_at is not None:
                self.stdout.write(_("This record was already purged."))
                return
            if dry_run:
                self.stdout.write(f"would_purge {_line(closure)}")
                return
            purge_record(patient_id, operator=operator)
        except PurgeRefused as refusal:
            raise CommandError(refusal.message) from None
        self.stdout.write(f"purged account={patient_id}")


def _account_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise CommandError(
            _("Invalid account id: expected a UUID such as 0b6d5e0c-4c1a-4f7e-9a55-2f1d3c9b8e71.")
        ) from None
