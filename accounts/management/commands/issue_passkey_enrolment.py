"""Print, once, the one-time code a staff member types to register their first passkey
(``accounts.services.passkey_enrolment``). Hand it over in person or by telephone after
checking who asks: it is what stands between a relayed password and code and the
administration. With ``--passkeys-lost``, the staff member's passkeys are removed first (they lost
them all, and adding a key otherwise needs a session opened with one). A new code stops the
older ones; it is valid 24 hours; issuing it is audited."""

from django.core.management.base import BaseCommand, CommandError

from accounts.services.passkey_enrolment import VALIDITY, EnrolmentRefused, issue_enrolment_code


class Command(BaseCommand):
    help = "Print a one-time code for a staff member's first passkey (valid 24 hours)."

    def add_arguments(self, parser):
        parser.add_argument("username", help="the staff member's login identifier")
        parser.add_argument(
            "--passkeys-lost",
            action="store_true",
            help="the staff member lost every passkey: remove them (and end their sessions) first",
        )

    def handle(self, *args, **options):
        try:
            code = issue_enrolment_code(
                options["username"], issued_by=None, passkeys_lost=options["passkeys_lost"]
            )
        except EnrolmentRefused as refusal:
            raise CommandError(refusal.message) from refusal
        hours = int(VALIDITY.total_seconds() // 3600)
        self.stdout.write(f"code={code} valid_hours={hours}")
