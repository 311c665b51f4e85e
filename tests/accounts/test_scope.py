"""Scope: every accounts URL that takes an id, and every export, as another reseller.

The list of URLs comes from ``accounts.urls`` itself, so a URL added later is walked too.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import invitations, services
from accounts import urls as account_urls
from accounts.models import AuditEntry, CreditLedgerEntry

pytestmark = pytest.mark.django_db

ID_URLS = [p.name for p in account_urls.urlpatterns if "pk" in p.pattern.converters]
TRANSFER_URLS = [p.name for p in account_urls.urlpatterns if "transfer_pk" in p.pattern.converters]


def _kwargs(name, account, extras):
    """URL arguments for ``name`` on ``account``: its invitation where the URL takes one."""
    pattern = next(p for p in account_urls.urlpatterns if p.name == name)
    kwargs = {"pk": account.pk}
    if "invitation_pk" in pattern.pattern.converters:
        kwargs["invitation_pk"] = extras[account.pk]
    return kwargs


@pytest.fixture
def reseller_a_things(world):
    """An invitation on each of reseller A's accounts and a transfer between them."""
    extras = {}
    for account in (world.reseller_a, world.sub_a):
        invitation, _ = invitations.invite(
            actor=world.operator, account=account, username=f"login-{account.username}"
        )
        extras[account.pk] = invitation.pk
    transfer = services.credit_transfer(
        actor=world.user_a, source=world.reseller_a, target=world.sub_a, amount=1, reason="r"
    )
    return extras, transfer


EXPORTS = ["accounts:list_export", "accounts:audit_export", "accounts:ledger_export"]
LISTS = ["accounts:list", "accounts:audit", "accounts:ledger"]


def test_id_urls_are_all_walked():
    # A guard on the walk itself: the detail page and both per-account exports are in it.
    assert {
        "detail",
        "account_audit_export",
        "account_ledger_export",
        "ban",
        "remove",
        "open",
        "credit_transfer",
        "link",
        "logins",
        "invitation_resend",
        "invitation_revoke",
        "threshold",
    } <= set(ID_URLS)
    assert len(ID_URLS) >= 21
    assert {"transfer_detail", "transfer_settle"} <= set(TRANSFER_URLS)


def test_another_reseller_gets_404_everywhere(world, client, reseller_a_things):
    extras, transfer = reseller_a_things
    client.force_login(world.user_b)
    assert AuditEntry.objects.filter(target=world.reseller_a).exists()
    assert CreditLedgerEntry.objects.filter(account=world.reseller_a).exists()
    before = AuditEntry.objects.count()
    for target in (world.reseller_a, world.sub_a):
        for name in ID_URLS:
            url = reverse(f"accounts:{name}", kwargs=_kwargs(name, target, extras))
            assert client.get(url).status_code == 404, url
            data = {
                "confirm_username": target.username,
                "amount": "1",
                "reason": "x",
                "password": "whatever1",
                "username": "intruder",
                "low_balance_threshold": "5",
            }
            assert client.post(url, data).status_code == 404, url
    for name in TRANSFER_URLS:
        url = reverse(f"accounts:{name}", kwargs={"transfer_pk": transfer.pk})
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"t1-decision": "applied", "t1-note": "x"}).status_code == 404
    assert AuditEntry.objects.count() == before  # nothing was attempted
    listing = client.get(reverse("accounts:transfers")).content.decode()
    assert f"#{transfer.pk}<" not in listing

    # Their own subaccount works (the walk is not 404 for everything).
    assert client.get(reverse("accounts:detail", kwargs={"pk": world.sub_b.pk})).status_code == 200


def test_exports_and_lists_hold_only_what_the_reseller_may_see(world, client):
    client.force_login(world.user_b)
    for name in EXPORTS + LISTS:
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert b"resb" in body, name
        assert b"resa" not in body, name
    # Filters cannot widen the scope either.
    response = client.get(reverse("accounts:list_export"), {"q": "resa", "parent": "", "level": ""})
    assert b"resa" not in b"".join(response.streaming_content)
    response = client.get(reverse("accounts:list"), {"parent": world.reseller_a.pk})
    assert b"resa" not in response.content


def test_subaccount_user_sees_only_itself(world, client, reseller_a_things):
    extras, _ = reseller_a_things
    for account in (world.reseller_b, world.sub_b):
        invitation, _ = invitations.invite(
            actor=world.operator, account=account, username=f"login-{account.username}"
        )
        extras[account.pk] = invitation.pk
    client.force_login(world.user_sub_a)
    for target in (world.reseller_a, world.reseller_b, world.sub_b):
        for name in ID_URLS:
            url = reverse(f"accounts:{name}", kwargs=_kwargs(name, target, extras))
            assert client.get(url).status_code == 404, url
    own = reverse("accounts:detail", kwargs={"pk": world.sub_a.pk})
    assert client.get(own).status_code == 200
    # It may look, not act.
    assert client.get(reverse("accounts:ban", kwargs={"pk": world.sub_a.pk})).status_code == 403
    assert client.get(reverse("accounts:logins", kwargs={"pk": world.sub_a.pk})).status_code == 403
    for name in EXPORTS + LISTS:
        assert client.get(reverse(name)).status_code in (302, 403), name
