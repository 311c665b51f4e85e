"""``manage.py sync [--account USERNAME] [--feed ds|in|ix|sx]``: one pull now, and what it did."""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import BearSMSAccount
from messaging import sync
from messaging.models import Feed, SyncCursor


class Command(BaseCommand):
    help = "Pull the BearSMS feeds into the local tables now (one pull per account and feed)."

    def add_arguments(self, parser):
        parser.add_argument("--account", help="only this account (username)")
        parser.add_argument("--feed", choices=[f.value for f in Feed], help="only this feed")
        parser.add_argument(
            "--full",
            action="store_true",
            help="also run the late-row sweep and the status refresh now",
        )

    def handle(self, *args, account=None, feed=None, full=False, **options):
        sync.ensure_cursors()
        cursors = SyncCursor.objects.select_related("account")
        if account:
            if not BearSMSAccount.objects.filter(username=account).exists():
                raise CommandError(f"unknown account {account!r}")
            cursors = cursors.filter(account__username=account)
        if feed:
            cursors = cursors.filter(feed=feed)
        cursors = list(cursors)
        if not cursors:
            raise CommandError("nothing to sync (no linked account matches)")
        failures = 0
        for cursor in cursors:
            try:
                result = sync.pull(
                    cursor=cursor, sweep=True if full else None, refresh=True if full else None
                )
            except Exception as exc:  # reported per cursor; the others still run
                failures += 1
                self.stdout.write(f"{cursor}: FAILED {sync.describe_failure(exc)}")
                continue
            self.stdout.write(str(result))
        if failures:
            raise CommandError(f"{failures} of {len(cursors)} pulls failed")
