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
from accounts.models import AuditEntry

from .conftest import PASSWORD, Level, keyed
from .test_refusals import local_state, no_server  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox(sandbox_documented):
    """Refusals never reach the server: one profile is enough."""
    return sandbox_documented


#: url name → (who posts, on which account, what they post, the audited action).
#: "sub" is a subaccount user on their own account; "reseller" is reseller B on its own
#: subaccount; both see the account, so the answer is the service's refusal, not a 404.
#: The account may be "sub_a:invitation" (an invitation on it) or "transfer" (reseller B's).
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
        lambda w: {"footer": "x", "timezone": "+0100", "local_length": 9},
        "accountconf",
    ),
    "zone": ("sub", "sub_a", lambda w: {"timezone_offset": "+0100"}, "zonerecord"),
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
    "credit_transfer": (
        "sub",
        "sub_a",
        lambda w: {"direction": "to_sub", "amount": "1", "reason": "r"},
        "credittransfer",
    ),
    "token_rotate": ("reseller", "sub_b", lambda w: {}, "set_token"),
    "open": ("sub", "sub_a", lambda w: {}, "loginkeyset"),
    "threshold": ("sub", "sub_a", lambda w: {"low_balance_threshold": "5"}, "accountthreshold"),
    "logins": ("sub", "sub_a", lambda w: {"username": "someone-new"}, "portalinvite"),
    "invitation_resend": ("sub", "sub_a:invitation", lambda w: {}, "portalinvite.resend"),
    "invitation_revoke": ("sub", "sub_a:invitation", lambda w: {}, "portalinvite.revoke"),
    "reconcile": ("reseller", None, lambda w: {}, "creditreconcile"),
    "transfer_settle": (
        "reseller",
        "transfer",
        lambda w: {"t{pk}-decision": "recheck", "t{pk}-note": "looked"},
        "creditsettle",
    ),
}

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
    "transfers_attention",
    "transfer_detail",
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
def objects(world):
    """What some action URLs act on: an invitation on sub A, a transfer of reseller B."""
    from accounts import invitations, services

    invitation, _token = invitations.invite(
        actor=world.operator, account=world.sub_a, username="invited-sub"
    )
    transfer = services.credit_transfer(
        actor=world.operator, source=world.reseller_b, target=world.sub_b, amount=1, reason="r"
    )
    return {"invitation": invitation, "transfer": transfer}


def _target(world, objects, target):
    """(the url's kwargs, the account the refusal is about or None)."""
    if target is None:
        return None, None
    if target == "transfer":
        return {"transfer_pk": objects["transfer"].pk}, None
    if target.endswith(":invitation"):
        account = getattr(world, target.split(":")[0])
        return {"pk": account.pk, "invitation_pk": objects["invitation"].pk}, None
    account = getattr(world, target)
    return {"pk": account.pk}, account


def _data(make, world, kwargs):
    pk = (kwargs or {}).get("transfer_pk")
    return {key.format(pk=pk): value for key, value in make(world).items()}


def test_every_refused_post_is_a_403_page_and_one_refused_entry(
    world,
    objects,
    no_server,  # noqa: F811
    client,
):
    refused = []
    for name, (who, target, make, action) in WALK.items():
        user = _actor(world, who)
        kwargs, account = _target(world, objects, target)
        url = reverse(f"accounts:{name}", kwargs=kwargs)
        client.force_login(user)
        before_ids = set(AuditEntry.objects.values_list("pk", flat=True))
        before_state = local_state()

        # as a rendered form sends it
        response = client.post(url, keyed(_data(make, world, kwargs)))

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


#: Buttons without a page of their own (GET is a 404) or pages that only show figures.
NO_FORM_PAGE = {
    "parent_get",
    "open",
    "invitation_resend",
    "invitation_revoke",
    "transfer_settle",
    "reconcile",
}


def test_refused_pages_are_not_shown_and_leave_no_entry(world, client):
    """Showing a form (GET) is like showing a button: a 403, and nothing was attempted."""
    before = AuditEntry.objects.count()
    for name, (who, target, _make, _action) in WALK.items():
        if name in NO_FORM_PAGE:
            continue
        kwargs, _account = _target(world, {}, target)
        client.force_login(_actor(world, who))
        url = reverse(f"accounts:{name}", kwargs=kwargs)
        assert client.get(url).status_code == 403, name
    assert AuditEntry.objects.count() == before
