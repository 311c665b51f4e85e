"""Who may do which admin op on which account. Services call these before anything else.

- Operators may do everything.
- Resellers may manage their own subaccounts: create them, ban/unban, preferences and
  configuration, move credit between their own account and a subaccount, link them and open
  them in BearSMS ("log in as").
- Subaccount users manage nothing.
- Resellers and subaccount users may refresh their own account's credit and send as it;
  resellers may also send as their subaccounts.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from bearsms_portal.bearsms import Op

from .audit import ACCOUNTTHRESHOLD, CREDITTRANSFER, PORTALINVITE
from .models import BearSMSAccount
from .roles import Role, account_of, role_of

RESELLER_ACTIONS = frozenset(
    {
        Op.ACCOUNTADD,
        Op.ACCOUNTBAN,
        Op.ACCOUNTUNBAN,
        Op.ACCOUNTPREF,
        Op.ACCOUNTCONF,
        CREDITTRANSFER,
        Op.CREDITVIEW,
        Op.PARENTGET,
        Op.LOGINKEYSET,
        Op.GET_TOKEN,
        PORTALINVITE,
        ACCOUNTTHRESHOLD,
        Op.PV,
    }
)


#: What any linked user may do on their own account (``pv``: send as it).
OWN_ACCOUNT_ACTIONS = frozenset({Op.CREDITVIEW, Op.PV})


def can(user, action: str, account: BearSMSAccount | None = None) -> bool:
    """True if ``user`` may run ``action`` (on ``account``, when the action targets one)."""
    role = role_of(user)
    if role == Role.OPERATOR:
        return True
    own = account_of(user)
    if own is None:
        return False
    if account is not None and account.pk == own.pk:
        return action in OWN_ACCOUNT_ACTIONS
    if role != Role.RESELLER or action not in RESELLER_ACTIONS:
        return False
    if account is None:
        return action == Op.ACCOUNTADD
    return account.level == BearSMSAccount.Level.SUBACCOUNT and account.parent_id == own.pk


def ensure_can(user, action: str, account: BearSMSAccount | None = None) -> None:
    """Raise ``PermissionDenied`` unless :func:`can`."""
    if not can(user, action, account):
        raise PermissionDenied(f"Not allowed: {action}")
