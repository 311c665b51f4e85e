"""Fixtures of the accounts tests: a demo world built through the portal's services against the
sandbox (the ``sandbox`` fixture, both profiles), plus portal users for each role."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from accounts import services
from accounts.models import BearSMSAccount, PortalProfile
from bearsms_portal.sandbox.services.accounts import enable_webservices
from bearsms_portal.sandbox.services.world import LOCAL_IPS

PASSWORD = "Secret-pass-1"
Level = BearSMSAccount.Level


def keyed(data: dict | None = None) -> dict:
    """Form data with a fresh one-time key, as a freshly rendered form carries (see
    accounts.idempotency)."""
    return {**(data or {}), "form_key": str(uuid.uuid4())}


def enable_on_server(sandbox, username: str) -> str:
    """What a BearSMS administrator does in the web UI: a token, webservices on, IP allowed."""
    return enable_webservices(sandbox.user(username), ip_list=LOCAL_IPS)


def make_account(
    actor, sandbox, username, *, level=Level.USER, parent=None, link=True, **extra
) -> BearSMSAccount:
    """An account created through the portal (accountadd), then linked like an operator would:
    webservices enabled on the server, then "link now" with the password the portal kept."""
    account = services.account_create(
        actor=actor,
        username=username,
        password=PASSWORD,
        name=username.title(),
        email=f"{username}@example.org",
        level=level,
        parent=parent,
        **extra,
    )
    if link:
        enable_on_server(sandbox, username)
        account = services.account_link(actor=actor, account=account)
    return account


def portal_user(django_user_model, username, role, account=None):
    user = django_user_model.objects.create_user(username=username, password=PASSWORD)
    PortalProfile.objects.create(user=user, role=role, account=account)
    return user


@dataclass
class World:
    sandbox: object
    operator: object
    reseller_a: BearSMSAccount
    sub_a: BearSMSAccount
    reseller_b: BearSMSAccount
    sub_b: BearSMSAccount
    user_a: object  # reseller A's portal user
    user_sub_a: object  # subaccount A's portal user
    user_b: object  # reseller B's portal user


@pytest.fixture
def world(sandbox, operator_user, django_user_model) -> World:
    op = operator_user
    ra = make_account(op, sandbox, "resa")
    sa = make_account(op, sandbox, "resa-sub", level=Level.SUBACCOUNT, parent=ra)
    rb = make_account(op, sandbox, "resb")
    sb = make_account(op, sandbox, "resb-sub", level=Level.SUBACCOUNT, parent=rb)
    services.credit_add(actor=op, account=ra, amount=100, reason="opening balance")
    services.credit_add(actor=op, account=rb, amount=50, reason="opening balance")
    return World(
        sandbox=sandbox,
        operator=op,
        reseller_a=ra,
        sub_a=sa,
        reseller_b=rb,
        sub_b=sb,
        user_a=portal_user(django_user_model, "alice-portal", PortalProfile.Role.RESELLER, ra),
        user_sub_a=portal_user(django_user_model, "sub-portal", PortalProfile.Role.SUBACCOUNT, sa),
        user_b=portal_user(django_user_model, "bob-portal", PortalProfile.Role.RESELLER, rb),
    )
