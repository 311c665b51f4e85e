"""Fidelity checklist §5.1, items 17–25: authentication."""

from __future__ import annotations

import re

import requests

from bearsms_portal.sandbox.models import FirewallAttempt, FirewallBlock, SandboxUser
from bearsms_portal.sandbox.services.auth import ip_entry_matches

from .helpers import as_user, call


def test_checklist_17_uppercase_u_fails_email_u_is_resolved(sandbox):
    assert call(sandbox, "cr", u="ADMIN", h=sandbox.admin_token).json()["error"] == "100"
    email = sandbox.user("admin").email
    assert call(sandbox, "cr", u=email, h=sandbox.admin_token).json()["status"] == "OK"
    assert (
        call(sandbox, "query", u=email, h=sandbox.admin_token).json()["data"]["user"]["username"]
        == "admin"
    )


def test_checklist_18_malformed_token_fails_without_counting(sandbox_playsms):
    sandbox = sandbox_playsms
    for bad in ("", "abc-def!", "has space"):
        assert call(sandbox, "cr", h=bad).json()["error"] == "100"
    assert not FirewallAttempt.objects.filter(count__gt=0).exists()
    call(sandbox, "cr", h="wellformedbutwrong")
    assert FirewallAttempt.objects.get().count == 1


def test_checklist_19_token_accepted_only_when_everything_holds(sandbox):
    token = sandbox.create_user("alice")
    sandbox.create_user("bob", level=4, parent="alice")
    assert as_user(sandbox, "alice", token, "cr").json()["status"] == "OK"
    cases = [
        {"enable_webservices": False},
        {"webservices_ip": ""},
        {"webservices_ip": "10.1.2.3"},
    ]
    for change in cases:
        SandboxUser.objects.filter(username="alice").update(**change)
        assert as_user(sandbox, "alice", token, "cr").json()["error"] == "100"
        assert (
            as_user(sandbox, "alice", token, "creditview", data_username="a").json()["error"]
            == "600"
        )
        SandboxUser.objects.filter(username="alice").update(
            enable_webservices=True, webservices_ip="127.0.0.1, ::1"
        )
    call(sandbox, "accountban", data_username="alice")
    assert as_user(sandbox, "alice", token, "cr").json()["error"] == "100"
    call(sandbox, "accountunban", data_username="alice")
    assert as_user(sandbox, "bob", token, "cr").json()["error"] == "100"  # u must own it
    FirewallBlock.objects.create(ip="127.0.0.1")
    assert as_user(sandbox, "alice", token, "cr").json()["error"] == "100"


def test_checklist_20_ip_list_semantics(sandbox):
    assert ip_entry_matches("127.0.0.1", "127.0.0.1")
    assert ip_entry_matches("127.0.0.0/8", "127.0.0.1")
    assert ip_entry_matches("127.0.0.*", "127.0.0.1")
    assert ip_entry_matches("192.168.*.*", "192.168.4.5")
    assert not ip_entry_matches("127.0.0.1-127.0.0.9", "127.0.0.1")
    assert not ip_entry_matches("*", "127.0.0.1")
    assert not ip_entry_matches("0.0.0.0/0", "127.0.0.1")
    token = sandbox.create_user("alice", password="alicepass1")
    for allowed in ("127.0.0.0/8", "127.0.0.*", "10.0.0.1, 127.0.0.1"):
        SandboxUser.objects.filter(username="alice").update(webservices_ip=allowed)
        assert as_user(sandbox, "alice", token, "cr").json()["status"] == "OK", allowed
    SandboxUser.objects.filter(username="alice").update(webservices_ip="10.1.1.1,,127.0.0.1")
    assert as_user(sandbox, "alice", token, "cr").json()["error"] == "100"
    assert call(sandbox, "get_token", u="alice", p="alicepass1").json()["token"] == token


def test_checklist_21_admin_ops_with_user_token_give_600_stoplist_bad_token_gives_100(sandbox):
    token = sandbox.create_user("alice")
    assert (
        as_user(sandbox, "alice", token, "accountban", data_username="x").json()["error"] == "600"
    )
    assert call(sandbox, "stoplist", h="badtoken1", **{"from": "6281"}).json()["error"] == "100"
    assert as_user(sandbox, "alice", token, "stoplist", **{"from": "6281"}).json()["status"] == "OK"


def test_checklist_22_brute_force_lockout_after_11_failures(sandbox_playsms):
    sandbox = sandbox_playsms
    call(sandbox, "cr", h="wrongtoken0")
    assert call(sandbox, "cr").json()["status"] == "OK"  # a success resets the count
    assert FirewallAttempt.objects.get().count == 0
    for i in range(10):
        call(sandbox, "cr", h=f"wrongtoken{i}")
    assert call(sandbox, "cr").json()["status"] == "OK"  # 10 failures: not blocked yet
    for i in range(11):
        call(sandbox, "cr", h=f"wrongtoken{i}")
    assert call(sandbox, "cr").json()["error"] == "100"
    assert call(sandbox, "get_token", u="admin", p="admin").json()["error"] == "100"


def test_checklist_23_get_token_order_and_short_passwords(sandbox):
    token = sandbox.create_user("alice", password="alicepass1")
    sandbox.create_user("four", password="abcd")
    assert call(sandbox, "get_token", u="four", p="abcd").json()["error"] == "100"
    assert call(sandbox, "get_token", u="alice", p="wrongpass").json()["error"] == "100"
    alice = SandboxUser.objects.filter(username="alice")
    alice.update(webservices_ip="10.9.9.9", token="", enable_webservices=False)
    assert call(sandbox, "get_token", u="alice", p="alicepass1").json()["error"] == "106"
    alice.update(webservices_ip="127.0.0.1")
    assert call(sandbox, "get_token", u="alice", p="alicepass1").json()["error"] == "104"
    alice.update(token=token)
    assert call(sandbox, "get_token", u="alice", p="alicepass1").json()["error"] == "105"
    alice.update(enable_webservices=True)
    assert call(sandbox, "get_token", u="alice", p="alicepass1").json()["token"] == token


def test_checklist_24_set_token_rotates_and_kills_the_old_token(sandbox):
    old = sandbox.create_user("alice")
    new = as_user(sandbox, "alice", old, "set_token").json()["token"]
    assert re.fullmatch(r"[0-9a-f]{32}", new) and new != old
    assert as_user(sandbox, "alice", old, "cr").json()["error"] == "100"
    assert as_user(sandbox, "alice", new, "cr").json()["status"] == "OK"


def test_checklist_25_ws_login_redirects_burns_the_key_and_logs_in_once(live_sandbox):
    sandbox = live_sandbox
    sandbox.create_user("alice")
    login = f"{sandbox.endpoint}?app=ws&op=ws_login&u=alice&login_key="
    key = call(sandbox, "loginkeyset", data_username="alice").json()["login_key"]
    wrong = requests.get(login + "0" * 32, allow_redirects=False, timeout=10)
    assert (wrong.status_code, wrong.headers["Location"]) == (302, "index.php")
    burnt = requests.get(login + key, allow_redirects=False, timeout=10)
    assert burnt.status_code == 302
    page = requests.get(sandbox.endpoint, cookies=burnt.cookies, allow_redirects=False, timeout=10)
    assert "route=block" in page.headers["Location"]  # the right key was burnt by the wrong try

    key = call(sandbox, "loginkeyset", data_username="alice").json()["login_key"]
    good = requests.get(login + key, allow_redirects=False, timeout=10)
    assert (good.status_code, good.headers["Location"]) == (302, "index.php")
    index = requests.get(sandbox.endpoint, cookies=good.cookies, allow_redirects=False, timeout=10)
    assert index.headers["Location"] == "index.php?app=main&inc=core_welcome"
    welcome = requests.get(
        f"{sandbox.endpoint}?app=main&inc=core_welcome", cookies=good.cookies, timeout=10
    )
    assert "Logged in as <strong>alice</strong>" in welcome.text
    again = requests.get(login + key, allow_redirects=False, timeout=10)
    index = requests.get(sandbox.endpoint, cookies=again.cookies, allow_redirects=False, timeout=10)
    assert "route=block" in index.headers["Location"]  # single use
