"""An account's balance: the one rule for what the portal knows about an account's credit.

BearSMS caches each account's balance in a column that ``creditview``, ``cr`` and ``query``
read, and refreshes it late — on playSMS 1.4.8 its recalculation only ever refreshes the main
admin (uid 1), so every other account reads 620 ("zero") forever, whatever its credit table
holds (``../shared/server-findings.md``, "creditview for non-admins"). The credit table itself
cannot be read through the API. So the portal keeps its own figure:

    balance = base + the portal's ledger moves after the base

where the *base* is a server figure the portal trusts (0 for an account the portal created —
new accounts start at zero — the server's figure at import, or a later "Refresh" that agrees
with what the portal knows). A server figure that contradicts the ledger in the known 1.4.8
way is kept beside it, as *the server's cache*, marked unreliable, and does not become the
base:

- ``creditview`` answers 620 (zero) for a non-admin account while the ledger says otherwise;
- the figure has not moved since the previous read although the portal moved credit since.

Any other difference (messages sent, moves made outside the portal) is the server's to tell:
such a figure becomes the new base. Messages sent are not in the ledger, so between two
trusted reads the balance is what the portal knows, not what the server may have charged.

Everything that shows or relies on a balance reads it here: the account page, the accounts
table, the dashboards and the credit checks built on top (the available balance of a credit
transfer starts from :attr:`Balance.balance`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from . import amounts
from .amounts import money_output
from .errors import ServiceError
from .models import BearSMSAccount, CreditLedgerEntry

ZERO = Decimal(0)

#: Why a server figure is not believed (shown beside it, stored with it).
STALE_ZERO = (
    "BearSMS answered 620 (zero) while the portal's ledger says {known}: on playSMS 1.4.8 the "
    "server never refreshes the cached balance of a non-admin account."
)
STALE_UNCHANGED = (
    "Unchanged since the previous read although the portal moved {moved} since: the server "
    "has not refreshed its cached balance."
)


@dataclass(frozen=True)
class Balance:
    """What the portal knows about one account's credit.

    ``balance`` is *the* balance (``None``: unknown — e.g. an account imported without its
    password, until "Refresh"). ``server_figure`` is the server's cached figure as last read,
    ``server_unreliable`` says it contradicts the ledger (``server_note`` says how).
    """

    balance: Decimal | None
    base: Decimal | None
    base_at: datetime | None
    moves: Decimal
    server_figure: Decimal | None
    server_read_at: datetime | None
    server_unreliable: bool
    server_note: str

    @property
    def is_known(self) -> bool:
        return self.balance is not None

    @property
    def server_differs(self) -> bool:
        """The server's figure is worth showing beside the balance (it says something else)."""
        return self.server_figure is not None and self.server_figure != self.balance


def _moves_after_base(account_ref) -> Subquery:
    """The sum of an account's ledger moves after its base (a subquery on ``account_ref``)."""
    moves = (
        CreditLedgerEntry.objects.filter(
            account=account_ref, id__gt=OuterRef("balance_base_ledger_id")
        )
        .order_by()
        .values("account")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Subquery(moves, output_field=money_output())


def with_balances(queryset: QuerySet[BearSMSAccount]) -> QuerySet[BearSMSAccount]:
    """``queryset`` with ``ledger_moves`` annotated, so :func:`balance_of` needs no query.

    Lists and dashboards read many balances in one query this way.
    """
    return queryset.annotate(
        ledger_moves=Coalesce(
            _moves_after_base(OuterRef("pk")),
            Value(ZERO),
            output_field=money_output(),
        )
    )


def _ledger_moves(account: BearSMSAccount) -> Decimal:
    annotated = getattr(account, "ledger_moves", None)
    if annotated is not None:
        return annotated
    total = CreditLedgerEntry.objects.filter(
        account=account, id__gt=account.balance_base_ledger_id
    ).aggregate(total=Sum("amount"))["total"]
    return total or ZERO


def balance_of(account: BearSMSAccount) -> Balance:
    """The account's balance (the one rule; see the module docstring)."""
    moves = _ledger_moves(account)
    base = account.balance_base
    return Balance(
        balance=None if base is None else base + moves,
        base=base,
        base_at=account.balance_base_at,
        moves=moves,
        server_figure=account.credit,
        server_read_at=account.credit_read_at,
        server_unreliable=account.credit_unreliable,
        server_note=account.credit_note,
    )


def last_ledger_id(account: BearSMSAccount) -> int:
    """The newest ledger entry of the account (0: none); taken before a server read, so a move
    made while the read is under way is counted on top of the new base, not lost in it."""
    last = CreditLedgerEntry.objects.filter(account=account).order_by("-id").values("id").first()
    return last["id"] if last else 0


@dataclass(frozen=True)
class Verdict:
    unreliable: bool
    note: str = ""


def judge_server_figure(account: BearSMSAccount, figure: Decimal, *, zero_answer: bool) -> Verdict:
    """Whether a freshly read server figure contradicts the ledger in the known 1.4.8 way.

    ``zero_answer``: the server answered 620 (zero) rather than a number. Call it with the
    account as it was *before* the read (its previous figure and base).
    """
    known = balance_of(account).balance
    if known is not None and figure == known:
        return Verdict(False)
    if zero_answer and account.level != BearSMSAccount.Level.ADMIN and known not in (None, ZERO):
        return Verdict(True, STALE_ZERO.format(known=_plain(known)))
    previous, read_at = account.credit, account.credit_read_at
    if previous is not None and read_at is not None and figure == previous:
        moved = CreditLedgerEntry.objects.filter(account=account, created_at__gt=read_at).aggregate(
            total=Sum("amount")
        )["total"]
        if moved:
            return Verdict(True, STALE_UNCHANGED.format(moved=_plain(moved)))
    return Verdict(False)


def record_server_figure(
    account: BearSMSAccount, figure: Decimal, verdict: Verdict, *, ledger_id: int, at: datetime
) -> list[str]:
    """Keep a server figure on the account (the caller saves, inside its transaction): always
    as the server's cache; as the new base only when it is believed. Returns the fields set.
    A figure no column could hold is refused (``accounts.amounts``), never stored wrongly."""
    try:
        figure = amounts.server_figure(figure)
    except amounts.FigureTooLarge as exc:
        raise ServiceError(str(exc)) from None
    account.credit, account.credit_read_at = figure, at
    account.credit_unreliable, account.credit_note = verdict.unreliable, verdict.note
    fields = ["credit", "credit_read_at", "credit_unreliable", "credit_note"]
    if not verdict.unreliable:
        fields += set_base(account, figure, ledger_id=ledger_id, at=at)
    return fields


def set_base(account: BearSMSAccount, amount: Decimal, *, ledger_id: int, at) -> list[str]:
    """Make ``amount`` the account's base: ledger moves up to ``ledger_id`` are in it."""
    account.balance_base, account.balance_base_at = amount, at
    account.balance_base_ledger_id = ledger_id
    return ["balance_base", "balance_base_at", "balance_base_ledger_id"]


def total_balance(balances) -> Decimal | None:
    """The sum of known balances (``None`` when none is known)."""
    known = [b.balance for b in balances if b.balance is not None]
    return sum(known, ZERO) if known else None


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"
