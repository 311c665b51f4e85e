"""Compare each account's credit on the server with the portal's expectation (README: Credit)."""

from django.core.management.base import BaseCommand, CommandError

from accounts import reconcile
from accounts.models import BearSMSAccount, CreditCheck
from accounts.transfers import fmt


class Command(BaseCommand):
    help = "Reconcile credit: the server's figure of each account against the portal's."

    def add_arguments(self, parser):
        parser.add_argument("--account", help="only this username")

    def handle(self, *args, account=None, **options):
        accounts = reconcile.reconcilable_accounts()
        if account:
            accounts = BearSMSAccount.objects.filter(username=account)
            if not accounts.exists():
                raise CommandError(f"no account {account!r} in the portal")
        checks = reconcile.reconcile_all(accounts=accounts)
        differing = 0
        for check in checks:
            differing += check.verdict == CreditCheck.Verdict.DIFFERS
            self.stdout.write(
                f"{check.account.username:30} server {fmt(check.server_figure):>14} "
                f"portal {fmt(check.expected):>14}  {check.get_verdict_display()}"
                + (f" — {check.note}" if check.note else "")
            )
        self.stdout.write(f"{len(checks)} account(s) checked, {differing} differ.")
