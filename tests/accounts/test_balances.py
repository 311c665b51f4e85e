"""The balance the portal shows: its ledger, with the server's cached figure beside it and marked
unreliable when it contradicts the ledger in the known 1.4.8 way (issue 13, acceptance 3)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts import services
from accounts.balances import balance_of
from accounts.models import PortalProfile
from messaging.dashboard import dashboard_for

from .conftest import make_account, portal_user


def _credit_card(html: str) -> str:
    start = html.index("data-balance")
    return html[start : html.index("Refresh", start)]


@pytest.mark.django_db(transaction=True)
def test_non_admin_after_moves_and_refresh_shows_the_ledger_balance(
    sandbox_playsms, operator_user, django_user_model, client
):
    sandbox = sandbox_playsms
    op = operator_user
    rosa = make_account(op, sandbox, "rosa")
    services.credit_add(actor=op, account=rosa, amount=1000, reason="opening")
    services.credit_deduct(actor=op, account=rosa, amount=250, reason="correction")
    sandbox.settle(120)  # the 1.4.8 recalculation runs, and refreshes only the main admin

    balance = services.credit_refresh(actor=op, account=rosa)

    # The server's credit table holds 750; its cache answers 620 ("zero").
    assert sandbox.user("rosa").credit == 0
    assert (balance.balance, balance.server_figure) == (Decimal(750), Decimal(0))
    assert balance.server_unreliable and "620" in balance.server_note
    rosa.refresh_from_db()
    assert balance_of(rosa).balance == Decimal(750)  # the moves before the read still count

    # Another refresh changes nothing; a later move adds on top of the same base.
    services.credit_refresh(actor=op, account=rosa)
    services.credit_add(actor=op, account=rosa, amount=5, reason="bonus")
    rosa.refresh_from_db()
    assert balance_of(rosa).balance == Decimal(755)

    # The account page: the balance is the ledger's; the server's figure is its cache, flagged.
    client.force_login(op)
    card = _credit_card(client.get(reverse("accounts:detail", args=[rosa.pk])).text)
    assert ">755.00<" in card
    assert "Server's cache" in card and "unreliable" in card and "620" in card
    listing = client.get(reverse("accounts:list")).text
    assert "755" in listing and "unreliable" in listing

    # The reseller's dashboard shows the same balance.
    reseller = portal_user(django_user_model, "rosa-portal", PortalProfile.Role.RESELLER, rosa)
    board = dashboard_for(reseller)
    assert board["total"].credit == Decimal(755)
    client.force_login(reseller)
    assert "755.00" in client.get("/").text


@pytest.mark.django_db(transaction=True)
def test_a_figure_that_agrees_becomes_the_base(sandbox_documented, operator_user):
    op = operator_user
    ivan = make_account(op, sandbox_documented, "ivan")
    services.credit_add(actor=op, account=ivan, amount=40, reason="opening")
    sandbox_documented.settle(60)
    balance = services.credit_refresh(actor=op, account=ivan)
    assert (balance.balance, balance.server_figure, balance.server_unreliable) == (
        Decimal(40),
        Decimal(40),
        False,
    )
    # Spending on the server (not in the ledger) is the server's to tell: a reliable figure
    # that differs becomes the new base.
    sandbox_documented.set_credit("ivan", Decimal(31))
    balance = services.credit_refresh(actor=op, account=ivan)
    assert (balance.balance, balance.server_unreliable) == (Decimal(31), False)


@pytest.mark.django_db(transaction=True)
def test_unchanged_cache_after_a_portal_move_is_unreliable(
    sandbox_documented, operator_user, settings
):
    settings.SANDBOX_SWITCHES = {"stale_credit": True}  # the cache moves at recalculation only
    op = operator_user
    sandbox = sandbox_documented
    vic = make_account(op, sandbox, "vic")
    services.credit_add(actor=op, account=vic, amount=100, reason="opening")
    sandbox.settle(60)
    assert services.credit_refresh(actor=op, account=vic).server_figure == Decimal(100)

    services.credit_add(actor=op, account=vic, amount=50, reason="more")
    balance = services.credit_refresh(actor=op, account=vic)  # before the recalculation
    assert (balance.balance, balance.server_figure) == (Decimal(150), Decimal(100))
    assert balance.server_unreliable and "Unchanged" in balance.server_note

    sandbox.settle(600)  # later than the previous recalculation
    balance = services.credit_refresh(actor=op, account=vic)
    assert (balance.balance, balance.server_figure, balance.server_unreliable) == (
        Decimal(150),
        Decimal(150),
        False,
    )
