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


_WORLD_ROWS = {  # World attribute: its model's name in _models()
    "operator": "user",
    "reseller_a": "account",
    "sub_a": "account",
    "reseller_b": "account",
    "sub_b": "account",
    "user_a": "user",
    "user_sub_a": "user",
    "user_b": "user",
}


def _models() -> dict:
    from django.contrib.auth import get_user_model

    return {"user": get_user_model(), "account": BearSMSAccount}


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

    def pks(self) -> dict[str, int]:
        return {name: getattr(self, name).pk for name in _WORLD_ROWS}

    @classmethod
    def reread(cls, sandbox, pks: dict[str, int]) -> World:
        """The world from the database: fresh objects, which the test may change at will."""
        models = _models()
        return cls(
            sandbox=sandbox,
            **{
                name: models[model].objects.get(pk=pks[name]) for name, model in _WORLD_ROWS.items()
            },
        )


def build_world(sandbox, op, django_user_model) -> World:
    """The demo world, through the portal's services: 4 accounts created and linked, 2 credit
    adds, 3 portal users."""
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


@pytest.fixture
def world(request, shared_world, sandbox, operator_user, django_user_model) -> World:
    """The demo world (see build_world). Tests that can share it (tests/shared_world.py) get
    their module's world, built once per profile, re-read from the database; others build
    their own."""
    pks = shared_world.for_test(request.node, sandbox.profile)
    if pks is not None:
        return World.reread(sandbox, pks)
    return build_world(sandbox, operator_user, django_user_model)
