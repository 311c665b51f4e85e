"""The accounts side of the demo world (``manage.py seed_demo``), for the embedded sandbox.

``make run`` seeds before the web server starts, so nothing here speaks HTTP: the sandbox's
accounts are read from its own tables (same database) and mirrored into local records, tokens
included (encrypted like any other). Everything is idempotent.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from . import balances, configuration
from .models import BearSMSAccount, PortalProfile

DEMO_RESELLER = ("reseller", "reseller-demo-pass")
DEMO_SUBACCOUNT = ("subaccount", "subaccount-demo-pass")
Level = BearSMSAccount.Level


def _sandbox_users():
    from bearsms_portal.sandbox.models import SandboxUser

    return (
        SandboxUser.objects.filter(deleted=False, status__in=[Level.USER, Level.SUBUSER])
        .select_related("parent")
        .order_by("status", "id")
    )


@transaction.atomic
def mirror_sandbox_accounts() -> list[BearSMSAccount]:
    """Local records for the sandbox's resellers and subaccounts (resellers first)."""
    mirrored = []
    for row in _sandbox_users():
        parent = None
        if row.status == Level.SUBUSER and row.parent is not None:
            parent = BearSMSAccount.objects.filter(username=row.parent.username).first()
        account, _ = BearSMSAccount.objects.get_or_create(
            username=row.username,
            defaults={
                "level": row.status,
                "parent": parent,
                "name": row.name,
                "email": row.email,
                "mobile": row.mobile,
            },
        )
        account.level, account.parent = row.status, parent
        account.status = (
            BearSMSAccount.Status.BANNED if row.banned_at else BearSMSAccount.Status.ACTIVE
        )
        for field, source in (
            ("sender", "sender"),
            ("footer", "footer"),
            ("timezone", "datetime_timezone"),
            ("language", "language_module"),
            ("fwd_to_inbox", "fwd_to_inbox"),
            ("fwd_to_email", "fwd_to_email"),
            ("fwd_to_mobile", "fwd_to_mobile"),
            ("local_length", "local_length"),
            ("replace_zero", "replace_zero"),
        ):
            setattr(account, field, getattr(row, source))
        account.conf_known = list(configuration.FIELDS)  # read from the sandbox's own table
        if account.balance_base is None or account.credit != row.credit:
            balances.record_server_figure(
                account, row.credit, balances.Verdict(False), ledger_id=0, at=timezone.now()
            )
        if row.token and row.enable_webservices:
            if account.reveal_token() != row.token:
                account.store_token(row.token)
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
