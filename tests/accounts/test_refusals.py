"""Refused attempts leave an audit trail: every admin-op service that stops before calling the
API (permission denied, input refused) writes one "refused" entry, and changes nothing else.

The world is built against the sandbox (documented profile only: refusals never reach the
server); then the client factories are replaced by one that fails the test if anything is
called, so "refused before the API" is proven, not assumed.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.forms.models import model_to_dict

from accounts import services
from accounts.errors import OutcomeUnknownError, ServiceError
from accounts.models import AuditEntry, BearSMSAccount, CreditLedgerEntry
from bearsms_portal import bearsms as api

from .conftest import PASSWORD, Level

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox(sandbox_documented):
    """The ``world`` fixture in one profile: nothing here depends on the server's dialect."""
    return sandbox_documented


class NoServer:
    """Stands in for every client: any API call fails the test."""

    def __getattr__(self, op):
        def call(*args, **kwargs):
            pytest.fail(f"{op} was called although the service refused first")

        return call


@pytest.fixture
def no_server(monkeypatch):
    for factory in ("admin_client", "client_for", "client_without_token"):
        monkeypatch.setattr(services, factory, lambda *args, **kwargs: NoServer())


def local_state():
    """Everything a refused attempt must leave alone."""
    accounts = [
        model_to_dict(a) | {"token": a.token_encrypted, "updated": a.updated_at}
        for a in BearSMSAccount.objects.order_by("pk")
    ]
    return accounts, list(CreditLedgerEntry.objects.values_list("pk", flat=True))


# (service, actor attribute of World, kwargs built from the World, expected audit action)
DENIED = [
    (
        "account_create",
        "user_b",
        lambda w: {
            "username": "resb-3",
            "password": PASSWORD,
            "name": "T",
            "email": "t@example.org",
            "level": Level.SUBACCOUNT,
            "parent": w.reseller_a,
        },
        "accountadd",
    ),
    ("account_remove", "user_b", lambda w: {"account": w.sub_a}, "accountremove"),
    ("account_ban", "user_b", lambda w: {"account": w.sub_a}, "accountban"),
    ("account_unban", "user_b", lambda w: {"account": w.sub_a}, "accountunban"),
    ("account_pref", "user_b", lambda w: {"account": w.sub_a, "name": "Mallory"}, "accountpref"),
    ("account_conf", "user_b", lambda w: {"account": w.sub_a, "footer": "x"}, "accountconf"),
    ("parent_set", "user_b", lambda w: {"account": w.sub_a, "parent": w.reseller_b}, "parentset"),
    ("parent_get", "user_b", lambda w: {"account": w.sub_a}, "parentget"),
    ("credit_refresh", "user_b", lambda w: {"account": w.sub_a}, "creditview"),
    (
        "credit_add",
        "user_b",
        lambda w: {"account": w.sub_a, "amount": 5, "reason": "r"},
        "creditadd",
    ),
    (
        "credit_deduct",
        "user_b",
        lambda w: {"account": w.sub_a, "amount": 5, "reason": "r"},
        "creditdeduct",
    ),
    (
        "credit_transfer",
        "user_b",
        lambda w: {"source": w.reseller_a, "target": w.sub_a, "amount": 1, "reason": "r"},
        "credittransfer",
    ),
    ("token_rotate", "user_b", lambda w: {"account": w.sub_a}, "set_token"),
    ("open_in_bearsms", "user_b", lambda w: {"account": w.sub_a}, "loginkeyset"),
    (
        "account_link",
        "user_b",
        lambda w: {"account": w.sub_a, "password": "whatever1"},
        "get_token",
    ),
    ("account_import", "user_b", lambda w: {"username": "someone"}, "accountimport"),
    ("inject_message", "user_b", lambda w: {"sender": "+15550001", "message": "hi"}, "inject"),
    ("stoplist_add", "user_b", lambda w: {"number": "15550000"}, "stoplist"),
    ("account_ban", "user_sub_a", lambda w: {"account": w.sub_a}, "accountban"),
]

INVALID = [
    (
        "credit_add",
        lambda w: {"account": w.reseller_a, "amount": "-5", "reason": "r"},
        "creditadd",
        "amount",
        "greater than zero",
    ),
    (
        "credit_deduct",
        lambda w: {"account": w.reseller_a, "amount": "lots", "reason": "r"},
        "creditdeduct",
        "amount",
        "Enter a number",
    ),
    (
        "credit_add",
        lambda w: {"account": w.reseller_a, "amount": 1, "reason": " "},
        "creditadd",
        "reason",
        "Give a reason",
    ),
    (
        "account_create",
        lambda w: {
            "username": "orphan",
            "password": PASSWORD,
            "name": "O",
            "email": "o@example.org",
            "level": Level.SUBACCOUNT,
            "parent": None,
        },
        "accountadd",
        "parent",
        "needs a parent",
    ),
    (
        "account_create",
        lambda w: {
            "username": "Bad Name",
            "password": PASSWORD,
            "name": "B",
            "email": "b@example.org",
        },
        "accountadd",
        "username",
        "lowercase",
    ),
    (
        "account_create",
        lambda w: {"username": "resa", "password": PASSWORD, "name": "R", "email": "r@example.org"},
        "accountadd",
        "username",
        "already taken",
    ),
    (
        "account_pref",
        lambda w: {"account": w.reseller_a, "email": "not-an-email"},
        "accountpref",
        "email",
        "valid email",
    ),
    ("account_pref", lambda w: {"account": w.reseller_a}, "accountpref", None, "Nothing changed"),
    (
        "account_conf",
        lambda w: {"account": w.reseller_a, "timezone": "7"},
        "accountconf",
        "timezone",
        "+HHMM",
    ),
    (
        "parent_set",
        lambda w: {"account": w.reseller_b, "parent": w.sub_a},
        "parentset",
        "parent",
        "must be a reseller",
    ),
    (
        "account_remove",
        lambda w: {"account": w.reseller_a},
        "accountremove",
        None,
        "subaccounts first",
    ),
    (
        "credit_transfer",
        lambda w: {"source": w.reseller_a, "target": w.reseller_a, "amount": 1, "reason": "r"},
        "credittransfer",
        "target",
        "two different accounts",
    ),
    ("account_link", lambda w: {"account": w.reseller_a}, "get_token", "password", "password"),
    (
        "account_import",
        lambda w: {"username": "resb"},
        "accountimport",
        "username",
        "already in the portal",
    ),
    ("stoplist_add", lambda w: {"number": "call me"}, "stoplist", "number", "Enter a number"),
    (
        "inject_message",
        lambda w: {"sender": "", "message": "hi"},
        "inject",
        "sender",
        "sender number",
    ),
]


def _target(kwargs):
    account = kwargs.get("account") or kwargs.get("target")
    return account, account.username if account else kwargs.get("username", "")


@pytest.mark.parametrize(
    ("name", "actor", "make", "action"), DENIED, ids=[f"{case[0]}-{case[1]}" for case in DENIED]
)
def test_permission_denied_is_audited_as_refused(world, no_server, name, actor, make, action):
    kwargs, user = make(world), getattr(world, actor)
    before_entries, before_state = AuditEntry.objects.count(), local_state()

    with pytest.raises(PermissionDenied):
        getattr(services, name)(actor=user, **kwargs)

    assert AuditEntry.objects.count() == before_entries + 1
    entry = AuditEntry.objects.order_by("-id").first()
    target, username = _target(kwargs)
    assert (entry.action, entry.outcome) == (action, AuditEntry.Outcome.REFUSED)
    assert entry.actor == user and entry.target_username == username
    assert entry.target_id == (target.pk if target else None)
    assert entry.message == (
        f"Refused: {user.username} is not allowed to run {action}"
        + (f" on “{username}”." if username else ".")
    )
    assert entry.details["steps"] == []  # the server was never asked
    assert local_state() == before_state


@pytest.mark.parametrize(
    ("name", "make", "action", "field", "words"),
    INVALID,
    ids=[f"{case[0]}-{case[3]}-{i}" for i, case in enumerate(INVALID)],
)
def test_refused_input_is_audited_as_refused(world, no_server, name, make, action, field, words):
    kwargs = make(world)
    before_entries, before_state = AuditEntry.objects.count(), local_state()

    with pytest.raises(ServiceError) as info:
        getattr(services, name)(actor=world.operator, **kwargs)

    assert info.value.field == field and words in info.value.message
    assert AuditEntry.objects.count() == before_entries + 1
    entry = AuditEntry.objects.order_by("-id").first()
    assert (entry.action, entry.outcome) == (action, AuditEntry.Outcome.REFUSED)
    assert entry.actor == world.operator
    assert entry.message == f"Refused: {info.value.message}"
    assert entry.target_username == _target(kwargs)[1]
    assert entry.details["steps"] == []
    assert local_state() == before_state
    assert PASSWORD not in str(entry.details) and PASSWORD not in entry.message


def test_refusal_keeps_safe_parameters_only(world, no_server):
    with pytest.raises(ServiceError):
        services.account_create(
            actor=world.operator,
            username="orphan",
            password=PASSWORD,
            name="O",
            email="o@example.org",
            level=Level.SUBACCOUNT,
        )
    entry = AuditEntry.objects.order_by("-id").first()
    assert entry.details["params"] == {"level": str(int(Level.SUBACCOUNT))}
    assert "password" not in str(entry.details)


def test_banned_account_is_not_opened_and_the_refusal_is_audited(world, monkeypatch):
    services.account_ban(actor=world.operator, account=world.reseller_b)
    for factory in ("admin_client", "client_for"):
        monkeypatch.setattr(services, factory, lambda *args, **kwargs: NoServer())
    sub_b = BearSMSAccount.objects.get(pk=world.sub_b.pk)
    with pytest.raises(ServiceError):
        services.open_in_bearsms(actor=world.operator, account=sub_b)
    entry = AuditEntry.objects.order_by("-id").first()
    assert (entry.action, entry.outcome, entry.target) == ("loginkeyset", "refused", world.sub_b)
    assert "banned" in entry.message


def test_unknown_username_found_by_the_pre_check_is_one_failure_entry(world):
    """The pre-check asks the server (parentget), so it is a failure with the ERR code, written
    once by the audited block, not a second "refused" entry."""
    from accounts.clients import admin_client

    admin_client().account_remove(world.sub_b.username)
    before = AuditEntry.objects.count()
    with pytest.raises(ServiceError) as info:
        services.credit_add(actor=world.operator, account=world.sub_b, amount=1, reason="r")
    assert info.value.code == 609
    assert AuditEntry.objects.count() == before + 1
    entry = AuditEntry.objects.order_by("-id").first()
    assert (entry.action, entry.outcome, entry.error_code) == ("creditadd", "failure", 609)
    assert [step["op"] for step in entry.details["steps"]] == ["parentget"]
    assert "no account “resb-sub”" in entry.message
    assert not CreditLedgerEntry.objects.filter(account=world.sub_b).exists()


def test_successful_calls_write_no_refusal(world):
    before = AuditEntry.objects.count()
    services.account_ban(actor=world.user_a, account=world.sub_a)
    assert AuditEntry.objects.count() == before + 1
    assert not AuditEntry.objects.filter(outcome=AuditEntry.Outcome.REFUSED).exists()


# --- set_token: the answer is lost --------------------------------------------------------------


class LostRotation:
    """A client whose ``set_token`` answer is lost; ``query`` answers as ``query_raises`` says."""

    def __init__(self, lost: Exception, query_raises: Exception | None):
        self.lost, self.query_raises = lost, query_raises

    def set_token(self):
        raise self.lost

    def query(self):
        if self.query_raises is not None:
            raise self.query_raises
        return object()


LOST_ANSWERS = {
    "outcome-unknown": api.OutcomeUnknown(None, "set_token", "connection reset after sending"),
    "http-500": api.ServerError(None, "set_token", "HTTP 500", http_status=500),
}


def test_set_token_answered_by_php_and_old_token_refused_marks_not_linked(world, monkeypatch):
    """PHP answered (HTTP 500), so the op is over: the old token is checked at once."""
    account = world.reseller_b
    old_token = account.reveal_token()
    fake = LostRotation(
        LOST_ANSWERS["http-500"], api.AuthenticationFailed(100, "query", "authentication failed")
    )
    monkeypatch.setattr(services, "client_for", lambda _account: fake)

    with pytest.raises(ServiceError) as info:
        services.token_rotate(actor=world.operator, account=account)

    assert info.value.message == services.ROTATION_LOST_REASON
    account.refresh_from_db()
    assert not account.is_linked and account.linked_at is None
    assert account.link_error == services.ROTATION_LOST_REASON
    assert "link the account again with its password" in account.link_error
    entry = AuditEntry.objects.filter(action="set_token").order_by("-id").first()
    assert AuditEntry.objects.filter(action="set_token").count() == 1
    assert entry.outcome == AuditEntry.Outcome.FAILURE and entry.target == account
    assert entry.message == services.ROTATION_LOST_REASON
    assert [s["op"] for s in entry.details["steps"]] == ["set_token", "query"]
    assert entry.details["steps"][1]["code"] == 100
    assert "refuses the old token" in entry.details["notes"][0]
    assert old_token not in str(entry.details) and old_token not in entry.message


def test_set_token_without_answer_keeps_the_old_token_until_settled(world, monkeypatch):
    """No answer at all: the op may still run, so nothing is asked at once; the old token is
    kept and the settlement (later) finds it refused: only then not linked."""
    from accounts import clients, settling

    account = world.reseller_b
    fake = LostRotation(
        LOST_ANSWERS["outcome-unknown"],
        api.AuthenticationFailed(100, "query", "authentication failed"),
    )
    monkeypatch.setattr(services, "client_for", lambda _account: fake)
    monkeypatch.setattr(clients, "client_for", lambda _account: fake)
    with pytest.raises(OutcomeUnknownError) as info:
        services.token_rotate(actor=world.operator, account=account)
    assert "could not confirm" in info.value.message
    account.refresh_from_db()
    assert account.is_linked and account.unconfirmed == "set_token"
    entry = AuditEntry.objects.filter(action="set_token").get()
    assert entry.outcome == AuditEntry.Outcome.UNKNOWN and entry.settle_after is not None
    assert [s["op"] for s in entry.details["steps"]] == ["set_token"]
    # A second rotation is refused until it is settled.
    with pytest.raises(ServiceError) as info:
        services.token_rotate(actor=world.operator, account=account)
    assert "could not be confirmed yet" in info.value.message
    assert settling.settle(entry) is True
    account.refresh_from_db()
    entry.refresh_from_db()
    assert not account.is_linked and account.link_error == services.ROTATION_LOST_REASON
    assert account.unconfirmed == "" and entry.outcome == AuditEntry.Outcome.SUCCESS


def test_set_token_lost_and_old_token_unanswered_stays_linked(world, monkeypatch):
    """The old token cannot be checked either: nothing is known, nothing local changes."""
    account = world.reseller_b
    fake = LostRotation(LOST_ANSWERS["http-500"], api.Timeout(None, "query", "timed out"))
    monkeypatch.setattr(services, "client_for", lambda _account: fake)
    with pytest.raises(OutcomeUnknownError):
        services.token_rotate(actor=world.operator, account=account)
    account.refresh_from_db()
    assert account.is_linked and not account.link_error
    entry = AuditEntry.objects.filter(action="set_token").get()
    assert entry.outcome == AuditEntry.Outcome.UNKNOWN
    assert [s["op"] for s in entry.details["steps"]] == ["set_token", "query"]
