"""Acceptance 3: every op through the client against the built-in sandbox (in-process;
faults over real HTTP).

The ``sandbox`` fixture (tests/conftest.py) runs each test once per profile: "documented"
(what the public page promises) and "playsms-1.4.8" (what the real server does).
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import requests

from bearsms_portal.bearsms import (
    AccountAdded,
    AccountAddFailed,
    AccountStatus,
    AdminAuthFailed,
    AuthBlocked,
    AuthenticationFailed,
    Client,
    DeliveryStatus,
    DuplicateStoplist,
    InMemoryAuthGuard,
    InvalidDestination,
    NotBanned,
    ParentUnchanged,
    UnknownOp,
    UnknownUser,
)
from bearsms_portal.sandbox import profiles

pytestmark = pytest.mark.django_db

HEX64 = re.compile(r"[0-9a-f]{64}")


_OPEN: list[Client] = []


@pytest.fixture(autouse=True)
def _close_clients():
    """Close the pooled connections of every client a test made."""
    yield
    while _OPEN:
        _OPEN.pop().close()


def client(sandbox, username, token, **options) -> Client:
    switches = profiles.PROFILES[sandbox.profile]
    options.setdefault("auth_guard", InMemoryAuthGuard())
    made = Client(
        sandbox.url,
        username,
        token,
        tz_offset=switches.gateway_timezone,
        server_tz_offset=switches.server_timezone,
        backoff=0,
        timeout=10,
        **options,
    )
    _OPEN.append(made)
    return made


@pytest.fixture
def admin(sandbox):
    with client(sandbox, sandbox.admin_username, sandbox.admin_token) as c:
        yield c


@pytest.fixture
def alice(sandbox):
    token = sandbox.create_user("alice", credit=100)
    with client(sandbox, "alice", token) as c:
        yield c


def test_query_credit_and_errors(sandbox, admin, alice):
    summary = admin.query()
    assert summary.username == sandbox.admin_username
    assert summary.status is AccountStatus.ADMIN
    assert isinstance(admin.credit(), Decimal)
    assert alice.query().status is AccountStatus.USER
    with pytest.raises(AdminAuthFailed):
        alice.credit_view("alice")  # a user token on an admin op
    with pytest.raises(UnknownOp):
        admin.call("foobar")
    bad = client(sandbox, "alice", "0123456789abcdef0123456789abcdef")
    with pytest.raises(AuthenticationFailed):
        bad.credit()
    with pytest.raises(AuthBlocked):
        bad.credit()


def test_send_track_and_inbox(sandbox, admin, alice):
    [sent] = alice.send_message("628123456789", "hello world")
    assert sent.ok and isinstance(sent.smslog_id, int) and HEX64.fullmatch(sent.queue)
    assert sent.to == "628123456789"
    [internal] = alice.send_message("@" + sandbox.admin_username, "hi admin & co")
    assert internal.is_internal and internal.smslog_id is None
    assert alice.delivery_status(queue=sent.queue) == []  # still queued (401)
    sandbox.settle()
    [row] = alice.delivery_status(queue=sent.queue)
    assert row.smslog_id == sent.smslog_id and row.dst == "628123456789"
    assert row.status is DeliveryStatus.DELIVERED
    # the offsets the client applies match the server's clock (dispatched "now" + settle)
    assert abs(row.dt - datetime.now(UTC)) < timedelta(minutes=10)
    assert abs(row.update - datetime.now(UTC)) < timedelta(minutes=10)
    assert [r.smslog_id for r in alice.iter_delivery_status()] == [sent.smslog_id]
    inbox = admin.inbox()
    assert [m.src for m in inbox] == ["@alice"] and inbox[0].is_internal
    assert abs(inbox[0].dt - datetime.now(UTC)) < timedelta(minutes=10)
    assert [m.id for m in admin.iter_inbox()] == [inbox[0].id]


def test_trap_iterator_against_the_sandbox(sandbox, alice):
    # 150 rows, ten per second: more rows than a page, and more ties than a page in a second
    sandbox.add_outgoing("alice", 150, step_seconds=0.1)
    assert len(alice.delivery_status(c=8)) == 8
    ids = [r.smslog_id for r in alice.iter_delivery_status(page_size=8)]
    assert len(ids) == 150 and ids == sorted(set(ids))
    rest = [r.smslog_id for r in alice.iter_delivery_status(after=ids[99], page_size=40)]
    assert rest == ids[100:]


def test_incoming_sandbox_and_inject(sandbox, admin):
    sandbox.add_keyword(sandbox.admin_username, "IDOL", scenarios={"A": "Thanks A"})
    admin.inject("+628999000111", "IDOL A", recvnum="1234")
    admin.inject("628999000222", "random unhandled")
    sandbox.settle()
    incoming = admin.incoming()
    assert [(m.kwd, m.src) for m in incoming] == [("IDOL", "+628999000111")]
    assert abs(incoming[0].dt - datetime.now(UTC)) < timedelta(minutes=10)
    assert [m.id for m in admin.iter_incoming()] == [incoming[0].id]
    unhandled = admin.sandbox()
    assert [m.msg for m in unhandled] == ["random unhandled"]
    assert [m.id for m in admin.iter_sandbox()] == [unhandled[0].id]


def test_contacts(sandbox, admin):
    sandbox.add_group(sandbox.admin_username, "Test Group", "TESTGROUP")
    sandbox.add_contact(
        sandbox.admin_username,
        "Anton Raharja",
        "08901230659",
        email="anton@example.org",
        groups=["TESTGROUP"],
    )
    [contact] = admin.get_contact("anton")
    assert (contact.name, contact.mobile, contact.email) == (
        "Anton Raharja",
        "08901230659",
        "anton@example.org",
    )
    [group] = admin.get_contact_group("test")
    assert (group.name, group.code, group.flag_sender) == ("Test Group", "TESTGROUP", 0)
    assert admin.get_contact("zzzz") == []


def test_stoplist(sandbox, alice):
    alice.stoplist_add("628555000111")
    with pytest.raises(DuplicateStoplist):
        alice.stoplist_add("628555000111")


def test_account_lifecycle(sandbox, admin):
    added = admin.account_add(
        username="Bob Smith",
        password="bobpass1",
        name="Bob",
        email="bob@example.org",
        status=AccountStatus.USER,
    )
    assert isinstance(added, AccountAdded) and added.username == "bobsmith"
    assert added.verified is (sandbox.profile == profiles.PLAYSMS_148)
    with pytest.raises(AccountAddFailed) as info:
        admin.account_add(
            username="bobsmith", password="bobpass1", name="Bob", email="bob2@example.org", status=3
        )
    assert "already exists" in info.value.info
    admin.account_add(
        username="carol",
        password="carolpass",
        name="Carol",
        email="carol@example.org",
        status=AccountStatus.SUBACCOUNT,
    )
    admin.parent_set("carol", "bobsmith")
    parent = admin.parent_get("carol")
    assert parent.parent == "bobsmith" and isinstance(parent.parent_uid, int)
    with pytest.raises(ParentUnchanged):
        admin.parent_set("carol", "bobsmith")
    admin.account_ban("bobsmith")
    admin.account_unban("bobsmith")
    with pytest.raises(NotBanned):
        admin.account_unban("bobsmith")
    assert "saved" in admin.account_pref("bobsmith", name="Bob B").info
    assert (
        "saved" in admin.account_conf("bobsmith", footer="@bob", sender="", timezone="+0700").info
    )
    admin.account_remove("carol")
    with pytest.raises(UnknownUser):
        admin.account_remove("carol")


def test_credit_ops(sandbox, admin, alice):
    assert admin.credit_view("alice") == Decimal(100)
    change = admin.credit_add("alice", Decimal("2.5"))
    assert change.amount == Decimal("2.5")
    deduct = admin.credit_deduct("alice", 1)
    assert deduct.amount == Decimal(1)
    assert isinstance(alice.credit(), Decimal)


def test_tokens_and_login_key(sandbox, admin):
    token = sandbox.create_user("dave", password="davepass1")
    dave = client(sandbox, "dave", None)
    assert dave.get_token("davepass1") == token
    old = client(sandbox, "dave", token)
    new = dave.set_token()
    assert new != token and dave.token == new
    assert isinstance(dave.credit(), Decimal)
    with pytest.raises(AuthenticationFailed):
        old.credit()
    key = admin.login_key_set("dave")
    assert re.fullmatch(r"[0-9a-f]{32}", key)
    answer = requests.get(admin.ws_login_url("dave", key), allow_redirects=False, timeout=10)
    assert answer.status_code == 302 and answer.headers["Location"] == "index.php"


def test_destination_lists_follow_the_profile(sandbox, alice):
    numbers = ["628123456791", "628123456792"]
    listing = client(sandbox, "alice", alice.token, destinations_per_request=2)
    if sandbox.profile == profiles.DOCUMENTED:
        results = listing.send_message(numbers, "hello many")
        assert [r.to for r in results] == numbers
    else:
        with pytest.raises(InvalidDestination) as info:
            listing.send_message(numbers, "hello many")
        assert [r.to for r in info.value.results] == ["628123456791628"]
    # the default (one destination per request) works everywhere
    assert [r.to for r in alice.send_message(numbers, "hello many")] == numbers


# --- the sandbox's fault switches, seen through the client over real HTTP -------------------


@pytest.mark.django_db(transaction=True)
def test_server_faults_through_the_client(live_sandbox_playsms):
    from bearsms_portal.bearsms import (
        MalformedResponse,
        OutcomeUnknown,
        SendRejected,
        ServerError,
        Timeout,
    )

    sandbox = live_sandbox_playsms  # latency against the client's timeout: the real wire
    admin = client(sandbox, sandbox.admin_username, sandbox.admin_token, retries=2)
    sandbox.set_fault("cr", "http500", 1.0)
    with pytest.raises(ServerError):
        admin.credit()
    sandbox.set_fault("query", "html_error", 1.0)
    with pytest.raises(ServerError) as info:
        admin.query()
    assert info.value.http_status == 502 and "Bad Gateway" in info.value.excerpt
    sandbox.set_fault("ds", "garbage", 1.0)
    with pytest.raises(MalformedResponse) as info:
        admin.delivery_status()
    assert info.value.excerpt.isprintable()
    sandbox.set_fault("pv", "http500", 1.0)
    with pytest.raises(SendRejected):
        admin.send_message("628123456789", "x")
    assert len(sandbox.requests("pv")) <= 1  # never retried
    sandbox.clear_faults()
    sandbox.set_fault("in", "latency_ms", 1500)  # answers after the client gave up
    sandbox.set_fault("accountban", "latency_ms", 1500)
    impatient = client(sandbox, sandbox.admin_username, sandbox.admin_token, retries=0)
    impatient.timeout = 0.5
    with pytest.raises(Timeout):
        impatient.incoming()
    with pytest.raises(OutcomeUnknown):
        impatient.account_ban("nobody")
    time.sleep(1.8)  # let the slow requests finish and release their DB connections
    sandbox.clear_faults()
    sandbox.set_fault("cr", "http500", 0.5)  # flaky: the retries get through
    patient = client(sandbox, sandbox.admin_username, sandbox.admin_token, retries=6)
    for _ in range(5):
        assert isinstance(patient.credit(), Decimal)
