"""Acceptance: every refusal through a page is audited.

Each action URL is POSTed, with input the form accepts, by a user who can see the account but
may not run the action. The view does not decide permission itself: the service refuses, its
``@audits_refusals`` writes one "refused" entry, and its ``PermissionDenied`` becomes the styled
403 page. No client is ever built (the server is never asked) and nothing local changes.

The walk is checked against ``accounts.urls``, so an action URL added later must join it.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import urls as account_urls
from accounts.forms import ConfForm
from accounts.models import AuditEntry

from .conftest import PASSWORD, Level, keyed
from .test_refusals import local_state, no_server  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sandbox(sandbox_documented):
    """Refusals never reach the server: one profile is enough."""
    return sandbox_documented


#: url name → (who posts, on which account, what they post, the audited action).
#: "sub" is a subaccount user on their own account; "reseller" is reseller B on its own
#: subaccount; both see the account, so the answer is the service's refusal, not a 404.
WALK = {
    "create": (
        "sub",
        None,
        lambda w: {
            "username": "newone",
            "password": PASSWORD,
            "name": "N",
            "email": "n@example.org",
            "level": Level.USER,
        },
        "accountadd",
    ),
    "import": ("reseller", None, lambda w: {"username": "someone", "level": 2}, "accountimport"),
    "inject": ("reseller", None, lambda w: {"sender": "15550001", "message": "hi"}, "inject"),
    "stoplist": ("reseller", None, lambda w: {"number": "15550000"}, "stoplist"),
    "link": ("sub", "sub_a", lambda w: {"password": "whatever1"}, "get_token"),
    "ban": ("sub", "sub_a", lambda w: {}, "accountban"),
    "unban": ("sub", "sub_a", lambda w: {}, "accountunban"),
    "remove": ("reseller", "sub_b", lambda w: {"confirm_username": "resb-sub"}, "accountremove"),
    "prefs": ("sub", "sub_a", lambda w: {"name": "Mallory"}, "accountpref"),
    "conf": (
        "sub",
        "sub_a",
        lambda w: (
            {k: v for k, v in ConfForm.initial_for(w.sub_a).items() if v not in (None, "")}
            | {"footer": "x"}
        ),
        "accountconf",
    ),
    "parent_set": (
        "reseller",
        "sub_b",
        lambda w: {"parent": w.reseller_b.pk, "confirm": "on"},
        "parentset",
    ),
    "parent_get": ("sub", "sub_a", lambda w: {}, "parentget"),
    "credit_add": ("reseller", "sub_b", lambda w: {"amount": "1", "reason": "r"}, "creditadd"),
    "credit_deduct": (
        "reseller",
        "sub_b",
        lambda w: {"amount": "1", "reason": "r"},
        "creditdeduct",
    ),
    "credit_move": (
        "sub",
        "sub_a",
        lambda w: {"direction": "to_sub", "amount": "1", "reason": "r"},
        "creditmove",
    ),
    "token_rotate": ("reseller", "sub_b", lambda w: {}, "set_token"),
    "open": ("sub", "sub_a", lambda w: {}, "loginkeyset"),
    "threshold": ("sub", "sub_a", lambda w: {"low_balance_threshold": "5"}, "accountthreshold"),
    "logins": ("sub", "sub_a", lambda w: {"username": "mallory"}, "portalinvite"),
    "invitation_resend": ("sub", "sub_a", lambda w: {}, "portalinvite.resend"),
    "invitation_revoke": ("sub", "sub_a", lambda w: {}, "portalinvite.revoke"),
    "transfer_settle": (
        "reseller",
        None,
        lambda w: {f"t{w.transfer.pk}-decision": "recheck", f"t{w.transfer.pk}-note": "x"},
        "creditsettle",
    ),
    "reconcile": ("reseller", None, lambda w: {}, "creditreconcile"),
}
#: Pages that are more than a button for some and a list for others: their GET is not refused.
LISTS_TOO = {"reconcile"}
#: Buttons only (POST): a GET is a 404.
BUTTONS = {"parent_get", "open", "invitation_resend", "invitation_revoke", "transfer_settle"}

#: Pages that only read (lists, details, exports).
READ_ONLY = {
    "list",
    "list_export",
    "audit",
    "audit_export",
    "ledger",
    "ledger_export",
    "detail",
    "account_audit_export",
    "account_ledger_export",
    "transfers",
    "transfer_detail",
    "transfers_attention",
}
#: Actions everyone who sees the account (or is logged in) may run: nobody to refuse.
#: Refreshing the credit is open to every user who sees the account (others get the 404 of
#: tests/accounts/test_scope.py); the profile is the user's own.
OPEN_TO_ALL = {"credit_refresh", "profile"}


def test_the_walk_covers_every_action_url():
    names = {p.name for p in account_urls.urlpatterns}
    assert set(WALK) == names - READ_ONLY - OPEN_TO_ALL


def _actor(world, who):
    return {"sub": world.user_sub_a, "reseller": world.user_b}[who]


@pytest.fixture
def things(world):
    """What some action URLs act on: an invitation on subaccount A, a transfer in B's tree
    (recorded only: neither needs the server)."""
    from accounts import invitations, transfers

    world.invitation, _ = invitations.invite(
        actor=world.operator, account=world.sub_a, username="sub-a-login"
    )
    world.transfer = transfers.request_transfer(
        actor=world.operator,
        source=world.reseller_b,
        target=world.sub_b,
        amount=1,
        reason="r",
        key="walk",
    )
    return world


def _url(world, name, account):
    if name == "transfer_settle":
        return reverse(f"accounts:{name}", kwargs={"transfer_pk": world.transfer.pk})
    kwargs = {"pk": account.pk} if account else {}
    if name.startswith("invitation_"):
        kwargs["invitation_pk"] = world.invitation.pk
    return reverse(f"accounts:{name}", kwargs=kwargs or None)


def test_every_refused_post_is_a_403_page_and_one_refused_entry(things, no_server, client):  # noqa: F811
    world = things
    refused = []
    for name, (who, target, make, action) in WALK.items():
        user = _actor(world, who)
        account = getattr(world, target) if target else None
        url = _url(world, name, account)
        client.force_login(user)
        before_ids = set(AuditEntry.objects.values_list("pk", flat=True))
        before_state = local_state()

        response = client.post(url, keyed(make(world)))  # as a rendered form sends it

        assert response.status_code == 403, (name, response.status_code)
        assert "403.html" in [t.name for t in response.templates], name
        assert b"Not allowed" in response.content, name
        new = AuditEntry.objects.exclude(pk__in=before_ids)
        assert new.count() == 1, (name, list(new.values_list("action", "outcome")))
        entry = new.get()
        assert (entry.action, entry.outcome, entry.actor) == (
            action,
            AuditEntry.Outcome.REFUSED,
            user,
        ), name
        if account is not None:
            assert entry.target == account, name
        assert entry.details["steps"] == [], name
        assert local_state() == before_state, name
        refused.append(name)
    assert refused == list(WALK)


def test_refused_pages_are_not_shown_and_leave_no_entry(things, client):
    """Showing a form (GET) is like showing a button: a 403, and nothing was attempted."""
    world = things
    before = AuditEntry.objects.count()
    for name, (who, target, _make, _action) in WALK.items():
        if name in BUTTONS | LISTS_TOO:
            continue  # buttons have no page of their own (GET is a 404); lists are shown
        account = getattr(world, target) if target else None
        client.force_login(_actor(world, who))
        url = _url(world, name, account)
        assert client.get(url).status_code == 403, name
    assert AuditEntry.objects.count() == before
