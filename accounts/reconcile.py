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

from . import balances
from .audit import audited, audits_refusals, describe
from .clients import admin_client
from .models import BearSMSAccount, CreditCheck
from .permissions import ensure_can
from .transfers import fmt, server_figure_live

Verdict = CreditCheck.Verdict


def reconcilable_accounts():
    """Accounts the server knows and the portal keeps a balance for (not removed)."""
    return BearSMSAccount.objects.exclude(username=settings.BEARSMS_ADMIN_USERNAME)


def reconcile_account(account: BearSMSAccount, *, actor=None) -> CreditCheck:
    """Read the server's figure for ``account`` and record how it compares (one audit entry)."""
    expected = balances.balance_of(account).balance
    ledger_id = balances.last_ledger_id(account)
    with audited(actor=actor, action="creditreconcile", target=account) as audit:
        zero_answer = False
        try:
            figure = audit.call("creditview", admin_client().credit_view, account.username)
        except api.ZeroCredit:
            figure, zero_answer = Decimal(0), True
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
        judged = balances.judge_server_figure(account, figure, zero_answer=zero_answer)
        if judged.unreliable or (not server_figure_live() and figure != expected):
            verdict = Verdict.UNRELIABLE
            note = judged.note or (
                "The server refreshes this figure late or never; it cannot be compared."
            )
        elif expected is None:
            verdict, note = Verdict.AGREES, "The portal had no balance: the server's is taken."
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
                fields = balances.record_server_figure(
                    account, figure, judged, ledger_id=ledger_id, at=timezone.now()
                )
                account.save(update_fields=[*fields, "updated_at"])
            audit.succeeded(
                f"{check.get_verdict_display()}: server {fmt(figure)}, portal {fmt(expected)}."
            )
    return check


def reconcile_all(*, actor=None, accounts=None) -> list[CreditCheck]:
    accounts = reconcilable_accounts() if accounts is None else accounts
    return [reconcile_account(account, actor=actor) for account in accounts]


@audits_refusals("creditreconcile")
def reconcile_now(*, actor) -> list[CreditCheck]:
    """An operator's "reconcile now": every account, each check audited."""
    ensure_can(actor, "creditreconcile")
    return reconcile_all(actor=actor)


def latest_checks(accounts):
    """The newest check of each account in ``accounts`` (a queryset), newest first."""
    latest = {}
    for check in CreditCheck.objects.filter(account__in=accounts).select_related("account"):
        latest.setdefault(check.account_id, check)
    return sorted(latest.values(), key=lambda c: (c.verdict == Verdict.AGREES, c.account.username))
