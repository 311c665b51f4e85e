"""Re-encrypt every secret kept with FIELD_ENCRYPTION_KEY using its first key (see README)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import crypto
from accounts.models import BearSMSAccount

FIELDS = ("token_encrypted", "pending_password_encrypted")


class Command(BaseCommand):
    help = "Re-encrypt stored tokens with the first FIELD_ENCRYPTION_KEY key (after adding one)."

    def handle(self, *args, **options):
        rotated = 0
        with transaction.atomic():
            for account in BearSMSAccount.objects.select_for_update().only("pk", *FIELDS):
                for field in FIELDS:
                    setattr(account, field, crypto.rotate(getattr(account, field)))
                account.save(update_fields=list(FIELDS))
                rotated += 1
        self.stdout.write(f"Re-encrypted the secrets of {rotated} account(s) with the first key.")
