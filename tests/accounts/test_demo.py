"""The demo world of ``make run``: sandbox accounts mirrored with their tokens, demo logins."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from accounts.demo import DEMO_RESELLER, DEMO_SUBACCOUNT, seed_demo_logins
from accounts.models import BearSMSAccount, PortalProfile

pytestmark = pytest.mark.django_db


def test_demo_logins_mirror_the_sandbox(sandbox_documented):
    sandbox = sandbox_documented
    token = sandbox.create_user("res1", credit=40)
    sub_token = sandbox.create_user("res1-s", level=4, parent="res1")
    sandbox.create_user("res2", webservices=False)
    logins = seed_demo_logins()
    assert [(role, user) for role, user, _, _ in logins] == [
        ("reseller", DEMO_RESELLER[0]),
        ("subaccount", DEMO_SUBACCOUNT[0]),
    ]
    r1, sub, r2 = (BearSMSAccount.objects.get(username=u) for u in ("res1", "res1-s", "res2"))
    assert r1.reveal_token() == token and sub.reveal_token() == sub_token
    assert sub.parent == r1 and sub.level == BearSMSAccount.Level.SUBACCOUNT
    assert not r2.is_linked and r2.link_error and r1.credit == 40
    assert PortalProfile.objects.get(user__username="reseller").account == r1
    assert PortalProfile.objects.get(user__username="subaccount").account == sub
    # Idempotent.
    assert seed_demo_logins() == logins
    assert BearSMSAccount.objects.count() == 3


def test_seed_demo_command_prints_the_logins(settings):
    settings.SANDBOX_ENABLED = True
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    text = out.getvalue()
    assert "operator" in text
    assert "reseller-demo-pass" in text and "subaccount-demo-pass" in text
    # The sandbox's demo accounts (made by its services) are mirrored, linked with their tokens.
    acme = BearSMSAccount.objects.get(username="acme")
    assert acme.is_linked and acme.subaccounts.filter(username="acme-sales").exists()
    # The tokens read from the sandbox are stored encrypted, never printed.
    for account in BearSMSAccount.objects.exclude(token_encrypted=""):
        assert account.reveal_token() not in text
    # Idempotent: a second run adds nothing.
    count = BearSMSAccount.objects.count()
    call_command("seed_demo", stdout=io.StringIO())
    assert BearSMSAccount.objects.count() == count


def test_demo_world_reads_well(settings, client):
    """Issue 11: sensible balances, a scheduled message on the Scheduled page, the sandbox's
    keywords on the inject page, a reseller and subaccount linked and tied together."""
    from django.urls import reverse

    from accounts.balances import balance_of
    from messaging.demo import DEMO_TEXT
    from messaging.models import Send

    settings.SANDBOX_ENABLED = True
    call_command("seed_demo", stdout=io.StringIO())
    for account in BearSMSAccount.objects.all():
        assert balance_of(account).balance >= 0, account.username
    reseller = PortalProfile.objects.get(user__username=DEMO_RESELLER[0])
    sub = PortalProfile.objects.get(user__username=DEMO_SUBACCOUNT[0])
    assert reseller.account.is_linked and sub.account.is_linked
    assert sub.account.parent == reseller.account

    client.force_login(reseller.user)
    scheduled = client.get(reverse("sending:scheduled")).content.decode()
    assert DEMO_TEXT in scheduled
    call_command("seed_demo", stdout=io.StringIO())  # idempotent
    assert Send.objects.filter(text__startswith=DEMO_TEXT[:20]).count() == 1

    client.force_login(get_user_model().objects.get(username="operator"))
    inject = client.get(reverse("accounts:inject"))
    keywords = {card.example for card in inject.context["keywords"]}
    assert {"INFO HOURS", "ACME hello"} <= keywords
    assert "<code>INFO HOURS</code>" in inject.content.decode()
