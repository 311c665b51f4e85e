"""Fidelity checklist §5.1, items 51–64: credit, query, contacts and the admin ops."""

from __future__ import annotations

import re
from datetime import timedelta
from unittest import mock

from django.utils import timezone

from bearsms_portal.sandbox.models import SandboxUser, StoplistEntry

from .helpers import as_user, call

FATAL = "FATAL ERROR : Database query execution has failed"


def _add(sandbox, **params):
    base = {"data_status": "3", "data_password": "pass1234", "data_name": "N"}
    base.update(params)
    base.setdefault("data_email", f"{base.get('data_username', 'x')}@example.org")
    return call(sandbox, "accountadd", **base)


def test_checklist_51_credit_is_string_zero_or_a_number(sandbox):
    token = sandbox.create_user("alice", credit="97.5")
    assert call(sandbox, "cr").json()["credit"] == "0"
    assert as_user(sandbox, "alice", token, "cr").json()["credit"] == 97.5
    assert as_user(sandbox, "alice", token, "query").json()["data"]["user"]["credit"] == 97.5
    sandbox.set_credit("admin", 95)
    assert '"credit":95,' in call(sandbox, "cr").text


def test_checklist_52_query_ints_and_last_ids(sandbox):
    token = sandbox.create_user("alice")
    call(sandbox, "pv", to="@alice", msg="hi")
    as_user(sandbox, "alice", token, "pv", to="628111", msg="queued, not dispatched")
    data = as_user(sandbox, "alice", token, "query").json()["data"]
    assert data["user"]["status"] == 3 and isinstance(data["user"]["uid"], int)
    assert data["last_id"]["user_inbox"] > 0
    assert data["last_id"]["user_outgoing"] == 0  # only dispatched rows count
    sandbox.settle()
    data = as_user(sandbox, "alice", token, "query").json()["data"]
    assert data["last_id"]["user_outgoing"] > 0 and data["last_id"]["user_incoming"] == 0


def test_checklist_53_creditview(sandbox):
    sandbox.create_user("alice")
    assert call(sandbox, "creditview", data_username="alice").json()["error"] == "620"
    assert call(sandbox, "creditview", data_username="nosuch").json()["error"] == "620"
    assert call(sandbox, "creditview").json()["error"] == "619"
    sandbox.set_credit("alice", -3)
    assert call(sandbox, "creditview", data_username="alice").json()["balance"] == -3


def test_checklist_54_creditadd_and_creditdeduct(sandbox_playsms):
    sandbox = sandbox_playsms
    sandbox.create_user("alice", credit=100)
    added = call(sandbox, "creditadd", data_username="alice", data_amount="2.5").json()
    assert (added["amount"], added["balance"]) == (2.5, 100)  # stale, pre-change
    deducted = call(sandbox, "creditdeduct", data_username="alice", data_amount="-500").json()
    assert (deducted["amount"], deducted["balance"]) == (500, 100)
    assert (
        call(sandbox, "creditadd", data_username="alice", data_amount="-5").json()["amount"] == -5
    )
    for params, code in [
        ({"data_amount": "abc"}, "622"),
        ({"data_amount": "0"}, "622"),
        ({}, "622"),
    ]:
        assert call(sandbox, "creditadd", data_username="alice", **params).json()["error"] == code
    assert call(sandbox, "creditdeduct", data_username="alice").json()["error"] == "624"
    assert call(sandbox, "creditadd", data_amount="1").json()["error"] == "621"
    assert call(sandbox, "creditdeduct", data_amount="1").json()["error"] == "623"
    assert call(sandbox, "creditadd", data_username="nosuch", data_amount="1").text == FATAL
    sandbox.create_user("zero")
    assert (
        call(sandbox, "creditadd", data_username="zero", data_amount="1").json()["balance"] is None
    )


def test_checklist_54_documented_profile_answers_the_new_balance(sandbox_documented):
    sandbox = sandbox_documented
    sandbox.create_user("alice", credit=100)
    added = call(sandbox, "creditadd", data_username="alice", data_amount="2.5").json()
    assert added["balance"] == 102.5


def test_checklist_55_get_contact_and_group(sandbox):
    token = sandbox.create_user("alice")
    sandbox.add_group("admin", "Test Group", "TESTGROUP")
    sandbox.add_contact(
        "admin",
        "Anton Raharja",
        "08901230659",
        email="anton@example.org",
        tags="vip",
        groups=["TESTGROUP"],
    )
    sandbox.add_contact("admin", "Andi", "0890111")
    row = call(sandbox, "get_contact", kwd="anton").json()["data"][0]
    assert list(row) == ["pid", "p_desc", "p_num", "email", "tags"] and "multi" not in row
    assert len(call(sandbox, "get_contact", kwd="an").json()["data"]) == 2
    assert len(call(sandbox, "get_contact", kwd="an", c="1").json()["data"]) == 1
    assert len(call(sandbox, "get_contact", kwd="an", c="0").json()["data"]) == 2
    for kwd in ("a", "zzzz", ""):
        body = call(sandbox, "get_contact", kwd=kwd).json()
        assert body["status"] == "OK" and body["data"] is None
    assert as_user(sandbox, "alice", token, "get_contact", kwd="anton").json()["data"] is None
    group = call(sandbox, "get_contact_group", kwd="test").json()["data"][0]
    assert list(group) == ["gpid", "group_name", "code", "flag_sender"]
    assert call(sandbox, "get_contact_group", kwd="nothing").json()["data"] is None


def test_checklist_56_accountadd(sandbox_playsms, settings):
    sandbox = sandbox_playsms
    assert _add(sandbox, data_username="dave", data_name="").json()["error"] == "603"
    assert _add(sandbox, data_username="dave", data_status="0").json()["error"] == "603"
    reply = _add(sandbox, data_username="Bob Smith", data_email="bob@example.org")
    assert (reply.status_code, reply.content) == (500, b"")  # created anyway
    bob = SandboxUser.objects.get(username="bobsmith")
    assert (bob.token, bob.enable_webservices, bob.webservices_ip, bob.footer) == (
        "",
        False,
        "127.0.0.1",
        "@bobsmith",
    )
    duplicate = _add(sandbox, data_username="bobsmith", data_email="x@example.org").json()
    assert duplicate["info"] == "Account already exists (username: bobsmith)"
    settings.SANDBOX_SWITCHES = {"accountadd_500": False}
    ok = _add(sandbox, data_username="sub", data_status="9", data_parent="bobsmith").json()
    assert ok["info"] == "Account has been added but failed to send email (username: sub)"
    sub = SandboxUser.objects.get(username="sub")
    assert (sub.status, sub.parent.username) == (4, "bobsmith")
    orphan = _add(sandbox, data_username="orphan", data_status="3", data_parent="bobsmith")
    assert (
        orphan.json()["status"] == "OK"
        and SandboxUser.objects.get(username="orphan").parent is None
    )
    infos = {
        "ab": "Username must be at least 3 characters and maximum 30 characters (ab)",
    }
    for username, info in infos.items():
        assert _add(sandbox, data_username=username).json()["info"] == info
    assert _add(sandbox, data_username="eve", data_email="bad").json()["info"] == (
        "Your email format is invalid (bad)"
    )
    assert _add(sandbox, data_username="eve", data_password="abc").json()["info"] == (
        "Password should be at least 4 characters"
    )


def test_checklist_57_accountremove(sandbox):
    token = sandbox.create_user("erin")
    sandbox.create_user("parent")
    sandbox.create_user("child", level=4, parent="parent")
    reply = call(sandbox, "accountremove", data_username="erin").json()
    assert reply["info"] == "Account has been removed (username: erin)"
    assert call(sandbox, "accountremove", data_username="erin").json()["error"] == "605"
    assert as_user(sandbox, "erin", token, "cr").json()["error"] == "100"
    immune = call(sandbox, "accountremove", data_username="admin").json()
    assert immune["error"] == "606"
    assert immune["info"] == "User is immune to deletion (username: admin)"
    assert call(sandbox, "accountremove", data_username="parent").json()["error"] == "606"
    sandbox.create_user("erin")  # the username is free again


def test_checklist_58_parentset(sandbox):
    sandbox.create_user("alice")
    sandbox.create_user("carol")
    sandbox.create_user("boss", level=2)
    assert (
        call(sandbox, "parentset", data_username="carol", data_parent="boss").json()["error"]
        == "608"
    )
    assert (
        call(sandbox, "parentset", data_username="carol", data_parent="alice").json()["status"]
        == "OK"
    )
    assert SandboxUser.objects.get(username="carol").status == 4
    assert (
        call(sandbox, "parentset", data_username="carol", data_parent="alice").json()["error"]
        == "608"
    )
    assert (
        call(sandbox, "parentset", data_username="x", data_parent="alice").json()["error"] == "607"
    )
    assert call(sandbox, "parentset").json()["error"] == "607"


def test_checklist_59_parentget(sandbox):
    sandbox.create_user("alice")
    sandbox.create_user("bob", level=4, parent="alice")
    sandbox.create_user("carol", level=4)
    reply = call(sandbox, "parentget", data_username="bob").json()
    assert (reply["parent_uid"], reply["parent"]) == (sandbox.user("alice").pk, "alice")
    assert call(sandbox, "parentget", data_username="alice").json()["error"] == "610"
    assert call(sandbox, "parentget", data_username="carol").json()["error"] == "610"
    assert call(sandbox, "parentget", data_username="x").json()["error"] == "609"


def test_checklist_60_bans(sandbox):
    sandbox.create_user("alice")
    sub = sandbox.create_user("bob", level=4, parent="alice")
    assert call(sandbox, "accountban", data_username="admin").json()["error"] == "612"
    assert call(sandbox, "accountban", data_username="x").json()["error"] == "611"
    assert call(sandbox, "accountunban", data_username="alice").json()["error"] == "614"
    assert call(sandbox, "accountban", data_username="alice").json()["status"] == "OK"
    assert call(sandbox, "accountban", data_username="alice").json()["status"] == "OK"
    assert as_user(sandbox, "bob", sub, "cr").json()["error"] == "100"
    assert call(sandbox, "accountunban", data_username="alice").json()["status"] == "OK"
    assert call(sandbox, "accountunban", data_username="x").json()["error"] == "613"
    assert as_user(sandbox, "bob", sub, "cr").json()["status"] == "OK"


def test_checklist_61_accountpref_and_accountconf(sandbox, settings):
    settings.SANDBOX_SWITCHES = {"custom_footer": True}
    sandbox.create_user("alice", password="alicepass1")
    sandbox.create_user("other", email="taken@example.org")
    assert call(sandbox, "accountpref", data_username="alice").json()["error"] == "615"
    assert call(sandbox, "accountpref", data_username="x", data_name="y").json()["error"] == "615"
    bad = call(sandbox, "accountpref", data_username="alice", data_email="bad-email").json()
    assert (bad["error"], bad["info"]) == ("616", "Your email format is invalid (bad-email)")
    taken = call(sandbox, "accountpref", data_username="alice", data_email="taken@example.org")
    assert taken.json()["error"] == "616"
    # the repeat lands in the same second as the save: the clock stands still for the pair (a
    # loop hoping for it failed on a loaded machine)
    instant = timezone.now().replace(microsecond=0)
    with mock.patch("django.utils.timezone.now", return_value=instant):
        saved = call(sandbox, "accountpref", data_username="alice", data_city="City")
        repeat = call(sandbox, "accountpref", data_username="alice", data_city="City")
    assert saved.json()["info"] == "Preferences have been saved"
    assert (repeat.json()["error"], repeat.json()["info"]) == ("616", "Fail to save preferences")
    assert (
        call(sandbox, "accountpref", data_username="alice", data_password="newpass1").json()["info"]
        == "Preferences have been saved and password updated"
    )
    assert call(sandbox, "accountpref", data_username="alice", data_country="abc").text == FATAL
    # a country is the numeric id of the server's country table (82: Indonesia), stored as is
    known = call(sandbox, "accountpref", data_username="alice", data_country="82")
    assert known.json()["status"] == "OK"
    assert sandbox.user("alice").country == 82

    assert call(sandbox, "accountconf", data_username="alice").json()["error"] == "617"
    assert (
        call(sandbox, "accountconf", data_username="alice", data_sender="NOPE").json()["info"]
        == "Invalid sender ID"
    )
    call(sandbox, "accountconf", data_username="alice", data_footer="Foot & bar!")
    assert sandbox.user("alice").footer == "Foot amp bar"
    assert (
        call(sandbox, "accountconf", data_username="alice", data_fwd_to_inbox="0").json()["info"]
        == "User configuration has been saved"
    )
    alice = sandbox.user("alice")
    assert (alice.footer, alice.sender, alice.fwd_to_inbox) == ("", "", False)  # cleared


def test_checklist_62_loginkeyset(sandbox):
    sandbox.create_user("alice")
    first = call(sandbox, "loginkeyset", data_username="alice").json()["login_key"]
    second = call(sandbox, "loginkeyset", data_username="alice").json()["login_key"]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and first != second
    assert sandbox.user("alice").login_key == second
    assert call(sandbox, "loginkeyset", data_username="x").text == FATAL
    assert call(sandbox, "loginkeyset").json()["error"] == "625"


def test_checklist_63_stoplist(sandbox):
    token = sandbox.create_user("alice")
    assert call(sandbox, "stoplist", h="badtoken1", **{"from": "1"}).json()["error"] == "100"
    assert (
        as_user(sandbox, "alice", token, "stoplist", **{"from": "+62811"}).json()["status"] == "OK"
    )
    assert call(sandbox, "stoplist", **{"from": "+62811"}).json()["status"] == "OK"  # again!
    dup = call(sandbox, "stoplist", **{"from": "62811"}).json()
    assert (dup["error"], dup["error_string"]) == ("627", None)
    assert list(call(sandbox, "stoplist").json()) == ["error_string", "timestamp"]
    assert list(StoplistEntry.objects.values_list("mobile", flat=True)) == ["62811", "62811"]
    blocked = call(sandbox, "pv", to="62811", msg="x")
    if sandbox.profile == "playsms-1.4.8":
        assert (blocked.status_code, blocked.content) == (500, b"")
    else:
        assert blocked.json()["data"][0]["error"] == "200"
    assert call(sandbox, "pv", to="+62811", msg="x").json()["data"][0]["status"] == "OK"


def test_checklist_64_native_ints_switch(sandbox_playsms, settings):
    sandbox = sandbox_playsms
    sandbox.create_user("alice")
    sandbox.create_user("bob", level=4, parent="alice")
    sandbox.add_group("admin", "G", "GROUP1")
    sandbox.add_contact("admin", "Anton", "0890", groups=["GROUP1"])
    call(sandbox, "pv", to="628111", msg="x")
    sandbox.tick(now=timezone.now() + timedelta(seconds=5))
    settings.SANDBOX_SWITCHES = {"native_ints": False}
    row = call(sandbox, "ds").json()["data"][0]
    assert isinstance(row["smslog_id"], str) and isinstance(row["status"], str)
    assert isinstance(call(sandbox, "get_contact", kwd="anton").json()["data"][0]["pid"], str)
    group = call(sandbox, "get_contact_group", kwd="group").json()["data"][0]
    assert isinstance(group["gpid"], str) and isinstance(group["flag_sender"], str)
    assert isinstance(call(sandbox, "parentget", data_username="bob").json()["parent_uid"], int)
    user = call(sandbox, "query").json()["data"]
    assert isinstance(user["user"]["uid"], int) and isinstance(
        user["last_id"]["user_outgoing"], int
    )
    assert isinstance(call(sandbox, "pv", to="628112", msg="x").json()["data"][0]["smslog_id"], int)
