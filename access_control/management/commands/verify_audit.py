"""``manage.py verify_audit`` (README, Management commands): the audit trail's integrity.

Exit 0 and ``ok chains=N events=M`` when every chain recomputes; otherwise one line per broken
chain on stderr, the first broken event first, and exit 1. The output stays in English and in
``key=value`` form, untranslated, because scripts and monitoring read it.
"""

from django.core.management.base import BaseCommand, CommandError

from access_control.audit_verify import DEFAULT_CHUNK_SIZE, verify_audit_trail


class Command(BaseCommand):
    help = "Check the audit trail's integrity; exit 0 when intact, 1 naming the first broken event."

    def add_arguments(self, parser):
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=DEFAULT_CHUNK_SIZE,
            help="events read from the database at a time (memory stays constant)",
        )

    def handle(self, *args, chunk_size: int, **options):
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1")
        result = verify_audit_trail(chunk_size=chunk_size)
        if result.ok:
            self.stdout.write(f"ok chains={result.chains} events={result.events}")
            return
        for found in result.breaks:
            self.stderr.write(str(found))
        unreported = result.broken_chains - len(result.breaks)
        if unreported:
            self.stderr.write(f"... and {unreported} more broken chain(s)")
        raise CommandError(
            f"audit trail broken: broken_chains={result.broken_chains} "
            f"chains={result.chains} events={result.events}",
            returncode=1,
        )
