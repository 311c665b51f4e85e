"""The sandbox keeps money exactly (issue 14): parallel credit changes over real HTTP leave its
cached balance equal to the sum of its own credit ledger — no lost update.

Tests that count credit rely on the cached figure (``cr``, ``creditview``); a lost update there
would hide a credit change the portal applied twice.
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db.models import Sum

from bearsms_portal.sandbox.models import CreditLedger, SandboxUser
from bearsms_portal.sandbox.services import credit

from .helpers import send

#: rounds of credit changes sent at the same instant; the figures are compared after each one
ROUNDS = 12
AT_ONCE = 4


@pytest.fixture
def sandbox(live_sandbox_documented):
    """The documented profile: every credit change reaches the cached figure at once."""
    return live_sandbox_documented


def _change(sandbox, index: int, start: threading.Barrier) -> str:
    op, amount = ("creditdeduct", "2") if index % 2 else ("creditadd", "5")
    fields = {
        "op": op,
        "u": sandbox.admin_username,
        "h": sandbox.admin_token,
        "data_username": "money",
        "data_amount": amount,
    }
    start.wait()
    time.sleep(random.uniform(0, 0.03))  # arriving within 30 ms of each other
    return send(sandbox, "POST", "app=ws", data=fields, timeout=30).json()["status"]


@pytest.fixture
def slow_sum(monkeypatch):
    """Widen the race window the way a loaded database does: each ledger sum takes up to 50 ms
    longer, so the requests in flight finish in any order (the live server runs in this
    process, so it sees the patch)."""
    real = credit.ledger_balance

    def slow(account):
        total = real(account)
        time.sleep(random.uniform(0, 0.05))
        return total

    monkeypatch.setattr(credit, "ledger_balance", slow)


def _figures() -> tuple[Decimal, Decimal, Decimal]:
    account = SandboxUser.objects.get(username="money", deleted=False)
    ledger = CreditLedger.objects.filter(user=account).aggregate(s=Sum("amount"))["s"]
    return ledger, account.credit, account.adhoc_credit


def test_parallel_credit_changes_leave_the_cached_balance_equal_to_the_ledger(sandbox, slow_sum):
    sandbox.create_user("money", credit=100)
    rounds = []
    with ThreadPoolExecutor(AT_ONCE) as pool:  # its threads only speak HTTP, never the database
        for _ in range(ROUNDS):
            start = threading.Barrier(AT_ONCE)
            jobs = [pool.submit(_change, sandbox, i, start) for i in range(AT_ONCE)]
            assert [job.result() for job in jobs] == ["OK"] * AT_ONCE
            rounds.append(_figures())
    per_round = Decimal(AT_ONCE // 2 * 5 - AT_ONCE // 2 * 2)
    assert rounds[-1][0] == 100 + ROUNDS * per_round
    wrong = [figures for figures in rounds if len(set(figures)) != 1]
    assert wrong == [], f"{len(wrong)} of {ROUNDS} rounds lost an update (ledger, cached, ad hoc)"
