"""The accounts side of the demo world (``manage.py seed_demo``), for the embedded sandbox.

``make run`` seeds before the web server starts, so nothing here speaks HTTP: the sandbox's own
services build its demo world and describe its accounts (``account_cards``: what an operator
reads off the sandbox's web UI), and those are mirrored into local records, tokens included
(encrypted like any other). Everything is idempotent.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from . import balances, configuration
from .models import BearSMSAccount, PortalProfile

DEMO_RESELLER = ("reseller", "reseller-demo-pass")
DEMO_SUBACCOUNT = ("subaccount", "subaccount-demo-pass")
Level = BearSMSAccount.Level


def sandbox_keywords() -> list | None:
    """The built-in sandbox's keywords (what its web UI lists), for the inject page; ``None``
    when the sandbox is not installed (a real server: the API cannot list keywords)."""
    if not settings.SANDBOX_ENABLED:
        return None
    from bearsms_portal.sandbox.services.demo import keyword_cards

    return keyword_cards()


def seed_sandbox() -> list[str]:
    """The sandbox's demo world, built by its own services; the accounts created this time."""
    from bearsms_portal.sandbox.services import demo

    result = demo.seed(
        admin_username=settings.BEARSMS_ADMIN_USERNAME, admin_token=settings.BEARSMS_ADMIN_TOKEN
    )
    return result.created


@transaction.atomic
def mirror_sandbox_accounts() -> list[BearSMSAccount]:
    """Local records for the sandbox's resellers and subaccounts (resellers first)."""
    from bearsms_portal.sandbox.services.demo import account_cards

    mirrored = []
    for card in account_cards():
        parent = None
        if card.level == Level.SUBACCOUNT and card.parent is not None:
            parent = BearSMSAccount.objects.filter(username=card.parent).first()
        account, _ = BearSMSAccount.objects.get_or_create(
            username=card.username,
            defaults={
                "level": card.level,
                "parent": parent,
                "name": card.name,
                "email": card.email,
                "mobile": card.mobile,
            },
        )
        account.level, account.parent = card.level, parent
        account.status = (
            BearSMSAccount.Status.BANNED if card.banned else BearSMSAccount.Status.ACTIVE
        )
        for field in configuration.FIELDS:  # the sandbox card has the same names
            setattr(account, field, getattr(card, field))
        account.conf_known = list(configuration.FIELDS)  # the sandbox described all of them
        if account.balance_base is None or account.credit != card.credit:
            balances.record_server_figure(
                account, card.credit, balances.Verdict(False), ledger_id=0, at=timezone.now()
            )
        if card.token:
            if account.reveal_token() != card.token:
                account.store_token(card.token)
                account.linked_at = timezone.now()
            account.link_error = ""
        elif not account.is_linked:
            account.link_error = "Webservices are not enabled for this account on the sandbox."
        account.save()
        mirrored.append(account)
    return mirrored


def ensure_demo_user(username: str, password: str, role: str, account: BearSMSAccount | None):
    """A portal login with ``role`` on ``account`` (password reset to the demo one)."""
    user, created = get_user_model().objects.get_or_create(username=username)
    if created or not user.check_password(password):
        user.set_password(password)
        user.save()
    PortalProfile.objects.update_or_create(user=user, defaults={"role": role, "account": account})
    return user


def seed_demo_logins() -> list[tuple[str, str, str, str]]:
    """Demo portal users for the first sandbox reseller and one of its subaccounts.

    Returns ``(role, username, password, bearsms account)`` for each login created.
    """
    mirror_sandbox_accounts()
    reseller = (
        BearSMSAccount.objects.filter(level=Level.USER, subaccounts__isnull=False)
        .exclude(token_encrypted="")
        .order_by("id")
        .first()
    )
    if reseller is None:
        return []
    logins = []
    username, password = DEMO_RESELLER
    ensure_demo_user(username, password, PortalProfile.Role.RESELLER, reseller)
    logins.append(("reseller", username, password, reseller.username))
    sub = reseller.subaccounts.exclude(token_encrypted="").order_by("id").first()
    if sub is not None:
        username, password = DEMO_SUBACCOUNT
        ensure_demo_user(username, password, PortalProfile.Role.SUBACCOUNT, sub)
        logins.append(("subaccount", username, password, sub.username))
    return logins
