"""``manage.py rotate_keys``: make the newest master key protect every data key."""

from django.core.management.base import BaseCommand, CommandError

from dmp_portal.crypto.datakeys import count_under_older_master_keys, rewrap_batch
from dmp_portal.crypto.keyring import get_key_provider


class Command(BaseCommand):
    help = (
        "Rewrap every data key under the current (first) master key, in batches; online and "
        "resumable. No health data is decrypted to disk: only the data keys are rewrapped."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Only print how many data keys remain under older master keys; "
            "exit 1 when any does.",
        )
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, check=False, batch_size=500, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        current = get_key_provider().current_key_id()
        if check:
            remaining = count_under_older_master_keys()
            self.stdout.write(f"current={current} remaining={remaining}")
            if remaining:
                raise SystemExit(1)
            return
        total = 0
        while rewrapped := rewrap_batch(batch_size):
            total += rewrapped
            self.stdout.write(f"rewrapped={total}")
        self.stdout.write(
            f"current={current} rewrapped={total} remaining={count_under_older_master_keys()}"
        )
