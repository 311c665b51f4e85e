"""The people of the journeys, made through the portal's services against the live sandbox."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from accounts import services
from accounts.models import BearSMSAccount, PortalProfile
from tests.accounts.conftest import PASSWORD, make_account

Level = BearSMSAccount.Level
OPERATOR = ("operator", "operator-pass-123")


def operator():
    return get_user_model().objects.create_user(
        username=OPERATOR[0], password=OPERATOR[1], is_staff=True
    )


def reseller(op, sandbox, username: str, *, credit=0) -> tuple[BearSMSAccount, object]:
    """A linked reseller account with credit, and its portal login ``<username>-portal``
    (password :data:`PASSWORD`)."""
    account = make_account(op, sandbox, username)
    if credit:
        services.credit_add(actor=op, account=account, amount=credit, reason="opening balance")
    user = get_user_model().objects.create_user(username=f"{username}-portal", password=PASSWORD)
    PortalProfile.objects.create(user=user, role=PortalProfile.Role.RESELLER, account=account)
    return account, user


def subaccount(actor, sandbox, parent: BearSMSAccount, username: str) -> BearSMSAccount:
    return make_account(actor, sandbox, username, level=Level.SUBACCOUNT, parent=parent)


__all__ = ["PASSWORD", "OPERATOR", "operator", "reseller", "subaccount"]
