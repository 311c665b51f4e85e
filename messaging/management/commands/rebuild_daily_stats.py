"""``manage.py rebuild_daily_stats [--account USERNAME …]``: recount the dashboard's daily rows.

The sync keeps :class:`~messaging.models.DailyStat` up to date as it writes; this recomputes the
rows from the message tables (a repair after rows were deleted or edited by hand, or after a
change of ``TIME_ZONE``, which decides the day a message counts in).
"""

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Sum

from accounts.models import BearSMSAccount
from messaging.models import DailyStat
from messaging.store import rebuild_daily_stats


class Command(BaseCommand):
    help = "Recompute the per-account daily message counts from the local message tables."

    def add_arguments(self, parser):
        parser.add_argument(
            "--account",
            action="append",
            metavar="USERNAME",
            help="only this account (repeat for several); default: every account",
        )

    def handle(self, *args, account=None, **options):
        ids = None
        if account:
            found = dict(
                BearSMSAccount.objects.filter(username__in=account).values_list("username", "pk")
            )
            unknown = sorted(set(account) - set(found))
            if unknown:
                raise CommandError(f"unknown account(s): {', '.join(unknown)}")
            ids = list(found.values())
        rebuild_daily_stats(ids)
        rows = DailyStat.objects.all() if ids is None else DailyStat.objects.filter(account__in=ids)
        totals = rows.aggregate(sent=Sum("sent"), incoming=Sum("incoming"))
        self.stdout.write(
            f"rebuilt {rows.count()} daily rows: {totals['sent'] or 0} sent, "
            f"{totals['incoming'] or 0} incoming"
        )
