"""Credit reconciliation: the server's figure of each linked account against the portal's.

The portal expects an account to hold its balance as the portal knows it (the last figure read
plus the portal's own ledger since). Where the server's cached figure is refreshed late or never
(``BEARSMS_CREDIT_LIVE`` off: playSMS 1.4.8 refreshes only uid 1) a difference proves nothing, so
the check says "server figure unreliable" instead of raising a false alarm. A check that agrees
moves the portal's baseline to the figure just read.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from bearsms_portal import bearsms as api

from .audit import audited, describe
from .clients import admin_client
from .models import BearSMSAccount, CreditCheck
from .transfers import fmt, server_figure_live

Verdict = CreditCheck.Verdict


def reconcilable_accounts():
    """Accounts the server knows and the portal keeps a balance for (not removed)."""
    return BearSMSAccount.objects.exclude(username=settings.BEARSMS_ADMIN_USERNAME)


def reconcile_account(account: BearSMSAccount, *, actor=None) -> CreditCheck:
    """Read the server's figure for ``account`` and record how it compares (one audit entry)."""
    from .services import known_balance

    expected = known_balance(account)
    with audited(actor=actor, action="creditreconcile", target=account) as audit:
        try:
            figure = audit.call("creditview", admin_client().credit_view, account.username)
        except api.ZeroCredit:
            figure = Decimal(0)
        except api.BearSMSError as exc:
            with transaction.atomic():
                check = CreditCheck.objects.create(
                    account=account,
                    expected=expected,
                    verdict=Verdict.UNREADABLE,
                    note=describe(exc),
                )
                audit.failed(f"Could not read the server: {describe(exc)}.", code=exc.code)
            return check
        if not server_figure_live():
            verdict = Verdict.UNRELIABLE
            note = "The server refreshes this figure late or never; it cannot be compared."
        elif figure == expected:
            verdict, note = Verdict.AGREES, ""
        else:
            verdict = Verdict.DIFFERS
            note = f"The server shows {fmt(figure - expected)} against the portal."
        with transaction.atomic():
            check = CreditCheck.objects.create(
                account=account, server_figure=figure, expected=expected, verdict=verdict, note=note
            )
            if verdict == Verdict.AGREES:
                account.credit, account.credit_read_at = figure, timezone.now()
                account.save(update_fields=["credit", "credit_read_at", "updated_at"])
            audit.succeeded(
                f"{check.get_verdict_display()}: server {fmt(figure)}, portal {fmt(expected)}."
            )
    return check


def reconcile_all(*, actor=None, accounts=None) -> list[CreditCheck]:
    accounts = reconcilable_accounts() if accounts is None else accounts
    return [reconcile_account(account, actor=actor) for account in accounts]


def latest_checks(accounts):
    """The newest check of each account in ``accounts`` (a queryset), newest first."""
    latest = {}
    for check in CreditCheck.objects.filter(account__in=accounts).select_related("account"):
        latest.setdefault(check.account_id, check)
    return sorted(latest.values(), key=lambda c: (c.verdict == Verdict.AGREES, c.account.username))
