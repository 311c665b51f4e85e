"""Acceptance (issue 14, point 1): every write service × every fault of the sandbox.

For each fault — HTTP 500, garbage, an HTML error page, a time-out (no answer), latency past
the time-out (the op runs after the client gave up: applied late) and connection refused — each
write is posted through its page. Then:

- no page answers 500;
- a resend of the same form and a retry with a new form while the outcome is unknown send
  nothing (checked in the sandbox's request log);
- once settled (``accounts.settling``, after the time-out plus the margin), the outcome the
  portal shows (the audit entry) matches what the sandbox applied, and nothing was applied twice
  (sandbox state and its request log).
"""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import services, settling, transfers
from accounts.models import AuditEntry, BearSMSAccount, CreditTransfer
from bearsms_portal.sandbox.models import CreditLedger, Incoming, SandboxUser, StoplistEntry

from .conftest import PASSWORD, Level, enable_on_server, keyed, make_account

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TIMEOUT = 1.0
FAULTS = ["http500", "garbage", "html_error", "hang", "late", "refused"]
#: Ops that are not idempotent on the server: the sandbox must have run them at most once.
ONCE = {"accountadd", "creditadd", "creditdeduct", "inject", "set_token", "accountremove"}


@pytest.fixture
def sandbox(sandbox_documented):
    """The documented profile: its credit figure follows at once, so credit can be settled."""
    return sandbox_documented


def url(name, account=None):
    return reverse(f"accounts:{name}", kwargs={"pk": account.pk} if account else None)


def user(username):
    return SandboxUser.objects.filter(username=username, deleted=False).first()


def _cases(w, fault):
    """(op, portal action, page url, form data, applied?) for every write service."""
    tag = FAULTS.index(fault)
    number = f"6281299900{tag}"
    message = f"matrix {fault}"
    old_token = user("resb").token
    credits = lambda name, amount: CreditLedger.objects.filter(  # noqa: E731
        user__username=name, amount=Decimal(amount)
    ).count()
    return [
        ("accountadd", "accountadd", url("create"),
         {"username": "mx-new", "password": PASSWORD, "name": "Mx", "email": "mx@example.org",
          "level": Level.USER, "parent": ""},
         lambda: user("mx-new") is not None),
        ("accountremove", "accountremove", url("remove", w.gone),
         {"confirm_username": "mx-gone"}, lambda: user("mx-gone") is None),
        ("accountban", "accountban", url("ban", w.sub_b), {},
         lambda: user("resb-sub").banned_at is not None),
        ("accountunban", "accountunban", url("unban", w.sub_a), {},
         lambda: user("resa-sub").banned_at is None),
        ("accountpref", "accountpref", url("prefs", w.reseller_a), {"city": "Matrix City"},
         lambda: user("resa").city == "Matrix City"),
        ("accountconf", "accountconf", url("conf", w.reseller_b),
         {"footer": "@mx", "sender": "", "local_length": 8, "fwd_to_inbox": "0"},
         lambda: user("resb").footer == "@mx"),
        ("parentset", "parentset", url("parent_set", w.sub_a),
         {"parent": w.reseller_b.pk, "confirm": "on"},
         lambda: user("resa-sub").parent.username == "resb"),
        ("creditadd", "creditadd", url("credit_add", w.reseller_a),
         {"amount": "7", "reason": "matrix"}, lambda: credits("resa", "7") == 1),
        ("creditdeduct", "creditdeduct", url("credit_deduct", w.reseller_b),
         {"amount": "3", "reason": "matrix", "confirmed": "on"},
         lambda: credits("resb", "-3") == 1),
        ("set_token", "set_token", url("token_rotate", w.reseller_b), {},
         lambda: user("resb").token != old_token),
        ("inject", "inject", url("inject"), {"sender": f"+{number}", "message": message},
         lambda: Incoming.objects.filter(msg=message).exists()),
        ("stoplist", "stoplist", url("stoplist"), {"number": f"+{number}"},
         lambda: StoplistEntry.objects.filter(mobile=number).exists()),
        # get_token changes nothing on the server: the link must not be shown as made
        ("get_token", "get_token", url("link", w.waiting), {"password": PASSWORD},
         lambda: BearSMSAccount.objects.get(username="mx-wait").is_linked),
    ]  # fmt: skip


def _arm(sandbox, settings, op, fault, real_url):
    settings.BEARSMS_URL = real_url
    if fault == "refused":
        settings.BEARSMS_URL = "http://127.0.0.1:9/sandbox"  # nothing listens on the discard port
    elif fault == "late":
        sandbox.set_fault(op, "latency_ms", int(TIMEOUT * 1000) + 800)
    else:
        sandbox.set_fault(op, fault, 1.0)


def _entry(action):
    return AuditEntry.objects.filter(action=action).exclude(outcome="refused").order_by("-id")[0]


def _applied_count(sandbox, op, mark):
    return sum(1 for r in sandbox.requests(op) if r.id > mark and not r.fault)


MOVED = Decimal("4.5")


def _move_credit_under(fault, world, client, settings, real_url):
    """Credit move (a saga of creditdeduct + creditadd, ``accounts.transfers``) with the fault
    on its deduction: once every transfer is advanced past the grace time, each is done or
    refunded — never left for a person — and the sandbox's credit table agrees with it: resb
    lost and resa gained ``MOVED`` once per transfer done, no deduction or add sent twice."""
    sandbox = world.sandbox
    data = {"source": world.reseller_b.pk, "target": world.reseller_a.pk, "amount": str(MOVED),
            "reason": "matrix move", "confirmed": "on"}  # fmt: skip
    _arm(sandbox, settings, "creditdeduct", fault, real_url)
    form = keyed(data)
    path = reverse("accounts:credit_transfer", kwargs={"pk": world.reseller_a.pk})
    responses = [client.post(path, form), client.post(path, form), client.post(path, keyed(data))]
    settings.BEARSMS_URL = real_url
    sandbox.clear_faults()
    assert all(r.status_code < 500 for r in responses), (fault, [r.status_code for r in responses])
    moves = list(CreditTransfer.objects.filter(amount=MOVED))
    assert 1 <= len(moves) <= 2, fault  # the same form twice is one transfer
    deadline = time.monotonic() + transfers.settle_grace() + 30
    while any(m.state not in CreditTransfer.FINAL_STATES for m in moves):
        assert time.monotonic() < deadline, [(m.state, m.log[-2:]) for m in moves]
        time.sleep(0.5)
        moves = [transfers.advance(m.pk) for m in moves]
    done = sum(1 for m in moves if m.state == CreditTransfer.State.DONE)
    ledger = lambda name, amount: CreditLedger.objects.filter(  # noqa: E731
        user__username=name, amount=amount
    ).count()
    taken, given_back, added = ledger("resb", -MOVED), ledger("resb", MOVED), ledger("resa", MOVED)
    assert (taken - given_back, added) == (done, done), (fault, taken, given_back, added, done)
    assert taken <= len(moves) and added <= len(moves), fault


@pytest.mark.parametrize("fault", FAULTS)
def test_every_write_service_under_every_fault(world, client, settings, fault):
    sandbox = world.sandbox
    real_url = settings.BEARSMS_URL
    op_user = world.operator
    world.gone = make_account(op_user, sandbox, "mx-gone", link=False)
    # not linked: webservices are off on the server until now
    world.waiting = make_account(op_user, sandbox, "mx-wait", link=False)
    enable_on_server(sandbox, "mx-wait")
    services.account_ban(actor=op_user, account=world.sub_a)
    # the short time-out only from here: building the world on a busy machine may take longer
    settings.BEARSMS_TIMEOUT = TIMEOUT
    settings.SANDBOX_HANG_SECONDS = TIMEOUT + 1
    settings.SETTLE_MARGIN = 3.0
    client.force_login(op_user)
    report = {}
    for op, action, path, data, applied in _cases(world, fault):
        mark = sandbox.requests()[-1].id
        _arm(sandbox, settings, op, fault, real_url)
        form = keyed(data)
        first = client.post(path, form)
        again = client.post(path, form)  # the same form sent again: the first outcome
        retry = client.post(path, keyed(data))  # a new attempt while the outcome is unknown
        settings.BEARSMS_URL = real_url
        sandbox.clear_faults()
        for response in (first, again, retry):
            assert response.status_code < 500, (op, fault, response.status_code)
        entry = _entry(action)
        if entry.outcome == AuditEntry.Outcome.UNKNOWN:
            # Nothing is asked until the op can no longer be running.
            assert entry.settle_after >= entry.created_at + timedelta(seconds=TIMEOUT), op
            time.sleep(max(0.0, (entry.settle_after - timezone.now()).total_seconds()) + 0.1)
            sandbox.tick()  # the sandbox's daemon routes injected messages
            for _ in range(3):
                settling.settle_due()
                entry.refresh_from_db()
                if entry.outcome != AuditEntry.Outcome.UNKNOWN:
                    break
                # the backoff, shortened: the next attempt is due now
                AuditEntry.objects.filter(pk=entry.pk).update(settle_after=timezone.now())
        is_applied = applied()
        report[op] = (entry.outcome, is_applied)
        expected = AuditEntry.Outcome.SUCCESS if is_applied else AuditEntry.Outcome.FAILURE
        assert entry.outcome == expected, (op, fault, entry.outcome, is_applied, entry.message)
        if op in ONCE:
            assert _applied_count(sandbox, op, mark) <= 1, (op, fault)
        if entry.target_id:
            account = BearSMSAccount.objects.filter(pk=entry.target_id).first()
            assert account is None or account.unconfirmed == "", (op, fault)
    _move_credit_under(fault, world, client, settings, real_url)
    log = [(r.op, r.params.get("from"), r.fault, r.result) for r in sandbox.requests("stoplist")]
    assert StoplistEntry.objects.count() == len(
        set(StoplistEntry.objects.values_list("mobile", flat=True))
    ), log
    # The page says what happened: nothing is left "checking".
    assert not AuditEntry.objects.filter(outcome__in=["unknown", "pending"]).exists(), report
