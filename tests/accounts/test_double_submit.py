"""Acceptance (issue 14, point 2): every form that writes to BearSMS, sent twice at once with
the same one-time key, is applied once — checked in the sandbox's request log — and both
requests get the same answer. Also double click (one after the other), back-and-resubmit of an
old page, and the key's own rules (another user's key, a form without a key)."""

from __future__ import annotations

import threading
import uuid
from collections import Counter

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import AuditEntry, BearSMSAccount, CreditTransfer, FormSubmission

from .conftest import PASSWORD, Level, keyed

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sandbox(live_sandbox_playsms):
    """The 1.4.8 profile only: the traps (accountadd's HTTP 500) make the race harder. Over
    real HTTP: two submissions race in two threads."""
    return live_sandbox_playsms


def url(name, account=None):
    return reverse(f"accounts:{name}", kwargs={"pk": account.pk} if account else None)


def post_twice_at_once(user, path, data):
    """Two browsers of ``user`` post the same form (same key) at the same moment."""
    barrier = threading.Barrier(2)
    responses = [None, None]

    def send(i):
        try:
            browser = Client()
            browser.force_login(user)
            barrier.wait()
            responses[i] = browser.post(path, data)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return responses


def ops_since(sandbox, mark: int) -> Counter:
    return Counter(r.op for r in sandbox.requests() if r.id > mark)


def last_request_id(sandbox) -> int:
    rows = sandbox.requests()
    return rows[-1].id if rows else 0


def _cases(world):
    """(label, user, url, form data, the write ops it must send once, prepare)."""
    w = world
    return [
        ("credit add", w.operator, url("credit_add", w.reseller_a),
         {"amount": "7", "reason": "top-up"}, {"creditadd": 1}),
        ("credit deduct", w.operator, url("credit_deduct", w.reseller_a),
         {"amount": "3", "reason": "fix"}, {"creditdeduct": 1}),
        ("credit transfer", w.user_a, url("credit_transfer", w.sub_a),
         {"direction": "to_sub", "amount": "5", "reason": "campaign"},
         {"creditdeduct": 1, "creditadd": 1}),
        ("inject", w.operator, url("inject"),
         {"sender": "+6281234567", "message": "hello"}, {"inject": 1}),
        ("stoplist", w.operator, url("stoplist"), {"number": "+6281200001"}, {"stoplist": 1}),
        ("account create", w.operator, url("create"),
         {"username": "twice", "password": PASSWORD, "name": "Twice",
          "email": "twice@example.org", "level": Level.USER, "parent": ""},
         {"accountadd": 1}),
        ("preferences", w.user_a, url("prefs", w.sub_a), {"city": "Bandung"},
         {"accountpref": 1}),
        ("configuration", w.operator, url("conf", w.reseller_b),
         {"footer": "@resb x", "local_length": 9, "fwd_to_inbox": "1"}, {"accountconf": 1}),
        ("parent", w.operator, url("parent_set", w.sub_a),
         {"parent": w.reseller_b.pk, "confirm": "on"}, {"parentset": 1}),
        ("token rotate", w.operator, url("token_rotate", w.reseller_b), {}, {"set_token": 1}),
        ("link", w.operator, url("link", w.reseller_a), {"password": PASSWORD},
         {"get_token": 1}),
        ("ban", w.operator, url("ban", w.sub_b), {}, {"accountban": 1}),
        ("unban", w.operator, url("unban", w.sub_b), {}, {"accountunban": 1}),
        ("remove", w.operator, url("remove", w.sub_b),
         {"confirm_username": w.sub_b.username}, {"accountremove": 1}),
    ]  # fmt: skip


def test_every_write_form_sent_twice_at_once_applies_once(world):
    sandbox = world.sandbox
    # Each write answers after 400 ms, so the second POST arrives while the first still runs.
    sandbox.set_fault("*", "latency_ms", 400)
    results = {}
    for label, user, path, data, expected in _cases(world):
        mark = last_request_id(sandbox)
        first, second = post_twice_at_once(user, path, keyed(data))
        sent = ops_since(sandbox, mark)
        results[label] = {op: sent[op] for op in expected}
        assert results[label] == expected, (label, sent)
        assert first.status_code == second.status_code == 302, label
        assert first["Location"] == second["Location"], label
    # The credit transfer keeps the key in its own saga row; every other form in FormSubmission.
    done = FormSubmission.objects.filter(state=FormSubmission.State.DONE)
    assert done.count() == len(results) - 1
    assert CreditTransfer.objects.filter(reason="campaign").count() == 1
    assert world.reseller_a.ledger_entries.filter(reason="top-up").count() == 1


def test_double_click_and_back_and_resubmit_apply_once(world, client):
    client.force_login(world.operator)
    sandbox = world.sandbox
    page = client.get(url("credit_add", world.reseller_a))
    key = page.context["form"].initial["form_key"]
    assert f'value="{key}"' in page.content.decode()  # the hidden field, made on render
    data = {"amount": "9", "reason": "double click", "form_key": key}
    mark = last_request_id(sandbox)
    first = client.post(url("credit_add", world.reseller_a), data)
    second = client.post(url("credit_add", world.reseller_a), data)  # the second click
    later = client.post(url("credit_add", world.reseller_a), data)  # back, then resubmit
    assert ops_since(sandbox, mark)["creditadd"] == 1
    assert first["Location"] == second["Location"] == later["Location"]
    assert world.reseller_a.ledger_entries.filter(reason="double click").count() == 1
    entry = AuditEntry.objects.filter(action="creditadd").order_by("-id").first()
    assert entry.details["form_key"] == key  # the key is recorded with the audit entry
    assert FormSubmission.objects.get(key=key).audit_entry == entry


def test_a_failure_is_replayed_and_the_form_comes_back_with_a_new_key(world, client):
    client.force_login(world.operator)
    data = keyed({"sender": "NOTMINE", "footer": "x", "local_length": 9})
    mark = last_request_id(world.sandbox)
    first = client.post(url("conf", world.sub_b), data)
    again = client.post(url("conf", world.sub_b), data)
    assert ops_since(world.sandbox, mark)["accountconf"] == 1
    assert first.context["form"].errors["sender"] == again.context["form"].errors["sender"]
    renewed = first.context["form"].data["form_key"]
    assert renewed != data["form_key"]  # a corrected form is a new attempt


def test_key_rules(world, client):
    # Without a key (an old page, a hand-made POST): shown again with a key, nothing sent.
    client.force_login(world.operator)
    mark = last_request_id(world.sandbox)
    response = client.post(url("credit_add", world.reseller_a), {"amount": "1", "reason": "x"})
    assert response.status_code == 200 and "out of date" in response.content.decode()
    assert response.context["form"].data["form_key"]
    assert ops_since(world.sandbox, mark)["creditadd"] == 0
    # Another user's key is not theirs to replay.
    key = str(uuid.uuid4())
    services.account_ban(actor=world.operator, account=world.sub_a, form_key=key)
    with pytest.raises(Exception) as info:
        services.account_ban(actor=world.user_a, account=world.sub_a, form_key=key)
    assert type(info.value).__name__ == "PermissionDenied"
    assert BearSMSAccount.objects.get(pk=world.sub_a.pk).is_banned
