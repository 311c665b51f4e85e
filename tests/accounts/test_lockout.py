"""Acceptance (issue 14, point 3): the portal is never locked out of BearSMS.

The sandbox runs the playsms-1.4.8 profile with its IP lock-out on (as the real server: the
11th counted failure from one address blacklists it for every account). Twenty wrong "Link
now" passwords, on top of a revoked token, never get the portal blacklisted: the per-account
link limit and the portal-wide failure budget hold them back, the other accounts keep syncing,
and after the cool-down the refused token is probed exactly once (the sandbox's request log).
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import services
from accounts.clients import AUTH_GUARD
from accounts.models import AuditEntry
from bearsms_portal.sandbox.models import FirewallAttempt, FirewallBlock, SandboxUser
from bearsms_portal.sandbox.profiles import current
from messaging import sync
from messaging.models import SyncCursor

from .conftest import Level, enable_on_server, keyed, make_account

pytestmark = pytest.mark.django_db(transaction=True)

WRONG = "Wrong-password-{n}"
#: the first feed's pull is refused by the server, the other two are held back without a request
REFUSED_ONCE = ["AuthenticationFailed", "AuthBlocked", "AuthBlocked"]


class Clock:
    """The guard's clock, moved by the test (the cool-down is 15 minutes)."""

    def __init__(self):
        import time

        self.now = time.time()

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(AUTH_GUARD, "clock", clock)
    return clock


@pytest.fixture
def portal(live_sandbox_playsms, operator_user, clock):
    """Three linked accounts that sync, and three the operator has not linked yet (over real
    HTTP: a pull reads the server in a thread of its own)."""
    sandbox_playsms = live_sandbox_playsms
    assert current().brute_force and current().brute_force_limit == 10
    op = operator_user
    linked = [make_account(op, sandbox_playsms, name) for name in ("resa", "resb", "resc")]
    waiting = [make_account(op, sandbox_playsms, f"new{n}", link=False) for n in range(3)]
    for name in ("new0", "new1", "new2"):
        enable_on_server(sandbox_playsms, name)
    return sandbox_playsms, linked, waiting


def _pull_all(usernames) -> dict[str, list[str]]:
    """Pull every feed of these accounts now; their errors (empty when they synced)."""
    sync.ensure_cursors()
    errors = {}
    for cursor in SyncCursor.objects.filter(account__username__in=usernames):
        try:
            sync.pull(cursor=cursor)
        except Exception as exc:  # recorded on the cursor by the pull
            errors.setdefault(cursor.account.username, []).append(type(exc).__name__)
    return errors


def _requests_as(sandbox, username, after):
    return [r for r in sandbox.requests() if r.id > after and r.username == username]


def test_twenty_wrong_link_passwords_never_get_the_portal_blacklisted(
    portal, client, operator_user, clock
):
    sandbox, (resa, resb, resc), waiting = portal
    client.force_login(operator_user)
    assert _pull_all(["resa", "resb", "resc"]) == {}

    # resb's webservices are switched off on the server: its token is refused from now on.
    SandboxUser.objects.filter(username="resb").update(enable_webservices=False)
    assert _pull_all(["resb"]) == {"resb": REFUSED_ONCE}

    # Twenty wrong passwords on "Link now": three accounts not linked yet, and resa (linked).
    targets = [*waiting, resa]
    answers = []
    for n in range(20):
        account = targets[n % len(targets)]
        response = client.post(
            reverse("accounts:link", kwargs={"pk": account.pk}),
            keyed({"password": WRONG.format(n=n)}),
            follow=True,
        )
        assert response.status_code == 200
        answers.append(response.text)
    get_tokens = sandbox.requests("get_token")
    refused_on_server = [r for r in get_tokens if r.result == "100"]
    # the budget of 5 refusals: resb's token, then four wrong passwords; 16 were held back
    assert len(refused_on_server) == 4
    assert FirewallBlock.objects.count() == 0
    assert max(FirewallAttempt.objects.values_list("count", flat=True)) < 10
    assert any("link attempts in the last" in text for text in answers)  # per account
    assert any("sign-ins from the portal" in text for text in answers)  # the budget
    # a failed link attempt leaves a linked account linked, its page unchanged
    resa.refresh_from_db()
    assert resa.is_linked and resa.link_error == ""

    # The other accounts keep syncing, and admin ops keep working.
    assert _pull_all(["resa", "resc"]) == {}
    services.credit_add(actor=operator_user, account=resc, amount=5, reason="still works")

    # After the cool-down the refused token is probed once, however often it is asked for.
    mark = sandbox.requests()[-1].id
    assert _pull_all(["resb"]) == {"resb": ["AuthBlocked"] * 3}
    assert _requests_as(sandbox, "resb", mark) == []
    clock.now += 15 * 60
    _pull_all(["resb"])
    _pull_all(["resb"])
    probes = _requests_as(sandbox, "resb", mark)
    assert [(r.op, r.result) for r in probes] == [(probes[0].op, "100")]
    # refused again: the next probe waits twice as long
    [held] = AUTH_GUARD.state(sandbox.endpoint, ["resb"]).blocked
    assert held.cooldown == 30 * 60
    assert FirewallBlock.objects.count() == 0


def test_try_again_now_probes_at_once_for_operators_only(portal, client, operator_user, clock):
    sandbox, (resa, resb, resc), _ = portal
    SandboxUser.objects.filter(username="resb").update(enable_webservices=False)
    assert _pull_all(["resb"]) == {"resb": REFUSED_ONCE}
    client.force_login(operator_user)
    page = client.get(reverse("messaging:sync_health")).text
    assert "Try again now" in page and "resb" in page
    assert "1 of 5 refused sign-ins allowed" in page

    # too early: the probe is refused again, and the next one waits twice as long
    mark = sandbox.requests()[-1].id
    response = client.post(reverse("messaging:auth_retry"), {"username": "resb"}, follow=True)
    assert "BearSMS refused the credentials of resb again" in response.text
    assert "tries them once more in 30 min" in response.text
    assert [(r.op, r.result) for r in _requests_as(sandbox, "resb", mark)] == [("query", "100")]
    assert AuditEntry.objects.filter(action="authretry").latest("id").outcome == "failure"

    # the administrator switches webservices back on; the operator does not wait 30 minutes
    SandboxUser.objects.filter(username="resb").update(enable_webservices=True)
    mark = sandbox.requests()[-1].id
    response = client.post(reverse("messaging:auth_retry"), {"username": "resb"}, follow=True)
    assert "BearSMS accepted the credentials" in response.text
    assert [r.op for r in _requests_as(sandbox, "resb", mark)] == ["query"]
    entry = AuditEntry.objects.filter(action="authretry").latest("id")
    assert (entry.outcome, entry.actor_id, entry.target_username) == (
        "success",
        operator_user.pk,
        "resb",
    )
    assert _pull_all(["resb"]) == {}
    assert "No credentials are held back" in client.get(reverse("messaging:sync_health")).text

    reseller = resa.pk and _reseller_user(resa)
    client.force_login(reseller)
    assert client.post(reverse("messaging:auth_retry"), {"username": "resb"}).status_code == 403


def _reseller_user(account):
    from django.contrib.auth import get_user_model

    from accounts.models import PortalProfile

    user = get_user_model().objects.create_user(username="res-user", password="x-Secret-1")
    PortalProfile.objects.create(user=user, role=PortalProfile.Role.RESELLER, account=account)
    return user


def test_healthz_shows_the_guard(portal, client, operator_user):
    sandbox, _, (new0, *_rest) = portal
    client.force_login(operator_user)  # the details of /healthz are for operators
    body = client.get("/healthz").json()
    guard = body["checks"]["auth_guard"]
    assert guard["ok"] is True and guard["state"] == "open" and guard["budget"] == 5
    assert Level  # the conftest's levels: the accounts above are resellers
