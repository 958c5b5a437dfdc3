"""``manage.py verify_audit`` (README, Management commands): the audit trail's integrity.

Exit 0 and ``ok chains=N events=M checkpoints=K last_checkpoint=L`` when every chain recomputes
and every signed checkpoint holds; otherwise one line per broken chain (its first problem) and
per broken checkpoint on stderr, and exit 1. ``--min-checkpoint N`` also fails when the last
checkpoint is below N: deleting the newest checkpoints leaves no gap, so monitoring passes the
last number it saw (the beat logs each one). The output stays in English and in
``key=value`` form, untranslated, because scripts and monitoring read it.
"""

from django.core.management.base import BaseCommand, CommandError

from audit.verify import DEFAULT_CHUNK_SIZE, verify_audit_trail


class Command(BaseCommand):
    help = "Check the audit trail's integrity; exit 0 when intact, 1 naming the first broken event."

    def add_arguments(self, parser):
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=DEFAULT_CHUNK_SIZE,
            help="events read from the database at a time (memory stays constant)",
        )
        parser.add_argument(
            "--min-checkpoint",
            type=int,
            default=0,
            help="fail unless the last signed checkpoint is at least this number",
        )

    def handle(self, *args, chunk_size: int, min_checkpoint: int, **options):
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1")
        result = verify_audit_trail(chunk_size=chunk_size)
        counts = (
            f"chains={result.chains} events={result.events} "
            f"checkpoints={result.checkpoints} last_checkpoint={result.last_checkpoint}"
        )
        too_old = result.last_checkpoint < min_checkpoint
        if result.ok and not too_old:
            self.stdout.write(f"ok {counts}")
            return
        for found in result.breaks:
            self.stderr.write(str(found))
        unreported = result.broken_chains - len(result.breaks)
        if unreported:
            self.stderr.write(f"... and {unreported} more broken chain(s)")
        for problem in result.checkpoint_breaks:
            self.stderr.write(str(problem))
        unreported = result.broken_checkpoints - len(result.checkpoint_breaks)
        if unreported:
            self.stderr.write(f"... and {unreported} more broken checkpoint(s)")
        if too_old:
            self.stderr.write(
                f"missing checkpoints: the last is {result.last_checkpoint}, "
                f"at least {min_checkpoint} was expected"
            )
        raise CommandError(
            f"audit trail broken: broken_chains={result.broken_chains} "
            f"broken_checkpoints={result.broken_checkpoints + too_old} {counts}",
            returncode=1,
        )
