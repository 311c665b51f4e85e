"""Credit: rates, charges, the ledger and the cached figure (§4.1.7).

The cached credit (what `cr`, `query`, `creditview` show) = ledger − finalised billing, refreshed
by the recalculation (every ``recalc_interval`` in the tick; only for the main admin under the
``uid1_only`` bug). Without ``stale_credit`` every change is applied to the cached figure at once.
"""

from __future__ import annotations

import math
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from ..models import CreditLedger, Outgoing, Rate, SandboxUser
from ..profiles import Switches

_GSM_SINGLE, _GSM_PART = 160, 153
_UNICODE_SINGLE, _UNICODE_PART = 70, 67


def segments(length: int, *, unicode: bool) -> int:
    single, part = (_UNICODE_SINGLE, _UNICODE_PART) if unicode else (_GSM_SINGLE, _GSM_PART)
    return 1 if length <= single else math.ceil(length / part)


def rate_for(number: str) -> Decimal:
    """Longest matching prefix (up to 11 digits); no match costs 0, whatever the default."""
    digits = number.lstrip("+")[:11]
    prefixes = [digits[:n] for n in range(len(digits), 0, -1)]
    rates = dict(Rate.objects.filter(prefix__in=prefixes).values_list("prefix", "rate"))
    for prefix in prefixes:
        if prefix in rates:
            return rates[prefix]
    return Decimal(0)


def charge_for(number: str, length: int, *, unicode: bool) -> Decimal:
    return segments(length, unicode=unicode) * rate_for(number)


def ledger_balance(account: SandboxUser) -> Decimal:
    ledger = CreditLedger.objects.filter(user=account).aggregate(s=Sum("amount"))["s"]
    billed = Outgoing.objects.filter(user=account, billing=Outgoing.Billing.FINAL).aggregate(
        s=Sum("charge")
    )["s"]
    return (ledger or Decimal(0)) - (billed or Decimal(0))


def recalculate(account: SandboxUser) -> Decimal:
    """Cached credit and ad-hoc balance := ledger − finalised billing.

    The account's row is locked from the sum to the write, so recalculations of one account run
    one after another and each sums every change committed before it: without the lock, a
    recalculation that summed before a concurrent credit change was committed could write its
    stale figure last (a lost update).
    """
    with transaction.atomic():
        list(SandboxUser.objects.select_for_update().filter(pk=account.pk).values_list("pk"))
        balance = ledger_balance(account)
        SandboxUser.objects.filter(pk=account.pk).update(credit=balance, adhoc_credit=balance)
    account.credit = account.adhoc_credit = balance
    return balance


def recalculate_all(sw: Switches) -> int:
    users = SandboxUser.objects.filter(deleted=False)
    if sw.credit_recalc == "uid1_only":
        users = users.filter(is_main_admin=True)
    count = 0
    for account in users:
        recalculate(account)
        count += 1
    return count


def apply_credit_change(account: SandboxUser, amount: Decimal, *, sw: Switches) -> Decimal:
    """A ledger entry; the cached figure follows at once only without ``stale_credit``."""
    CreditLedger.objects.create(user=account, amount=amount)
    if not sw.stale_credit:
        return recalculate(account)
    return account.credit


def set_credit(account: SandboxUser, amount: Decimal) -> None:
    """Test/seed helper: make the ledger total ``amount`` and refresh the cached figures, as if
    a recalculation had just run (works whatever the recalculation mode)."""
    delta = Decimal(str(amount)) - ledger_balance(account)
    if delta:
        CreditLedger.objects.create(user=account, amount=delta)
    recalculate(account)


def payer_of(account: SandboxUser) -> SandboxUser:
    """Whose cached credit a send is checked against: the parent's for subaccounts."""
    if account.status == 4 and account.parent_id:
        return account.parent
    return account
