"""Send its confirmation link to every contact address never sent one (the addresses carried
over from the record settings by access_control migration 0014). Safe to run again."""

from django.core.management.base import BaseCommand

from accounts.services.contact_email import queue_unsent_confirmations


class Command(BaseCommand):
    help = "Send a confirmation link to every contact e-mail address never sent one."

    def handle(self, *args, **options):
        count = queue_unsent_confirmations()
        self.stdout.write(f"queued={count}")
