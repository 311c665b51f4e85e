"""Reading, scoped: every query that respects "who may see what" lives here.

One selector per model. Views and exports resolve objects through these (``get_object_or_404(
accounts_visible_to(request.user), pk=pk)``), so scoping is proven in one place.

- operators see everything;
- resellers see their own account and its subaccounts;
- subaccount users see their own account;
- anybody else sees nothing.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import AuditEntry, BearSMSAccount, CreditLedgerEntry, StoplistNumber
from .roles import Role, account_of, role_of


def _account_scope(user, prefix: str = "") -> Q | None:
    """The Q that limits accounts (through ``prefix``) for ``user``; None means all."""
    role = role_of(user)
    if role == Role.OPERATOR:
        return None
    account = account_of(user)
    if account is None or role not in (Role.RESELLER, Role.SUBACCOUNT):
        return Q(pk__in=[])
    own = Q(**{f"{prefix}pk": account.pk})
    if role == Role.RESELLER:
        return own | Q(**{f"{prefix}parent_id": account.pk})
    return own


def accounts_visible_to(user) -> QuerySet[BearSMSAccount]:
    """The accounts ``user`` may see."""
    qs = BearSMSAccount.objects.select_related("parent")
    scope = _account_scope(user)
    return qs if scope is None else qs.filter(scope)


def audit_entries_visible_to(user) -> QuerySet[AuditEntry]:
    """Operators see the whole audit log; others only entries on accounts they may see."""
    qs = AuditEntry.objects.select_related("target", "actor")
    scope = _account_scope(user, prefix="target__")
    return qs if scope is None else qs.filter(scope)


def ledger_entries_visible_to(user) -> QuerySet[CreditLedgerEntry]:
    """Operators see the whole ledger; others only entries of accounts they may see."""
    qs = CreditLedgerEntry.objects.select_related("account", "actor")
    scope = _account_scope(user, prefix="account__")
    return qs if scope is None else qs.filter(scope)


def transfers_visible_to(user) -> QuerySet:
    """Credit transfers whose source or target ``user`` may see."""
    from .models import CreditTransfer

    qs = CreditTransfer.objects.select_related("source", "target", "actor")
    source, target = (
        _account_scope(user, prefix="source__"),
        _account_scope(user, prefix="target__"),
    )
    return qs if source is None else qs.filter(source | target)


def credit_checks_visible_to(user) -> QuerySet:
    """Reconciliation results of the accounts ``user`` may see."""
    from .models import CreditCheck

    qs = CreditCheck.objects.select_related("account")
    scope = _account_scope(user, prefix="account__")
    return qs if scope is None else qs.filter(scope)


def stoplist_entries(user, search: str = "") -> QuerySet:
    """The portal's record of the numbers it stoplisted (operators only: the stoplist is the
    server's, for everybody). ``search`` matches any run of digits, however it is typed."""
    if role_of(user) != Role.OPERATOR:
        return StoplistNumber.objects.none()
    qs = StoplistNumber.objects.all()
    digits = "".join(ch for ch in search or "" if ch.isdigit())
    if digits:
        qs = qs.filter(number__contains=digits)
    return qs


def stoplisted_numbers(numbers) -> set[str]:
    """Those of ``numbers`` the portal put on the BearSMS stoplist (or found already there):
    its :class:`~accounts.models.StoplistNumber` records, and the ``stoplist`` audit entries
    of calls made before those records existed. The server keeps numbers without a ``+``.
    """
    wanted = {str(n).lstrip("+") for n in numbers}
    if not wanted:
        return set()
    listed = set(StoplistNumber.objects.filter(number__in=wanted).values_list("number", flat=True))
    earlier = AuditEntry.objects.filter(action="stoplist").filter(
        Q(outcome=AuditEntry.Outcome.SUCCESS) | Q(error_code=627)
    )
    listed.update(
        str(number).lstrip("+")
        for number in earlier.values_list("details__params__number", flat=True)
        if number
    )
    return wanted & listed


def reseller_home(user) -> dict | None:
    """What a reseller's dashboard shows about credit: its available balance, the total its
    subaccounts hold, transfers of the last 30 days, those needing attention, and the
    subaccounts at or below their low-balance threshold. None for anyone but a reseller."""
    from datetime import timedelta

    from django.utils import timezone

    from .balances import balance_of, with_balances
    from .models import CreditTransfer
    from .transfers import available_balance

    if role_of(user) != Role.RESELLER or account_of(user) is None:
        return None
    own = account_of(user)
    subaccounts = list(with_balances(accounts_visible_to(user).filter(parent=own)))
    held = [balance_of(sub).balance for sub in subaccounts]
    visible = transfers_visible_to(user)
    low = []
    for sub in subaccounts:
        available = available_balance(sub)
        if available <= sub.low_balance_threshold:
            low.append((sub, available))
    return {
        "account": own,
        "available": available_balance(own),
        "subaccounts_total": sum((h for h in held if h is not None), start=0),
        "recent_transfers": visible.filter(created_at__gte=timezone.now() - timedelta(days=30))[
            :20
        ],
        "attention": visible.filter(state=CreditTransfer.State.ATTENTION),
        "low_balance": low,
    }
