"""The auth guard (issue 14, "never lock the portal out"): a refused credential is probed once
after a cool-down that doubles up to a cap; a budget of failures per server refuses passwords
and unproven tokens once spent while proven tokens carry on; a proven call costs one read."""

from __future__ import annotations

import pytest

from bearsms_portal.bearsms import AuthBlocked, AuthBudgetSpent, AuthenticationFailed
from bearsms_portal.bearsms.auth import AuthGuard, GuardPolicy, InMemoryAuthGuard, MemoryStore

from .support import json_response

ERR_100 = '{"status":"ERR","error":"100","error_string":"authentication failed","timestamp":1}'
CR_OK = '{"status":"OK","error":"0","credit":12.5,"error_string":null,"timestamp":1}'
TOKEN_OK = (
    '{"status":"OK","error":"0","token":"' + "b" * 32 + '","error_string":null,"timestamp":1}'
)
POLICY = GuardPolicy(budget=5, window=600, cooldown=900, cooldown_max=3600)


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def guard(clock):
    return InMemoryAuthGuard(policy=POLICY, clock=clock)


def _refused(call, error=AuthBlocked):
    with pytest.raises(error) as info:
        call()
    return info.value


def test_a_refused_token_is_probed_once_after_a_doubling_capped_cool_down(
    server, make_client, guard, clock
):
    server.default = json_response(ERR_100)
    client = make_client(token="a" * 32, auth_guard=guard)
    _refused(client.credit, AuthenticationFailed)
    probes = []
    for cooldown in (900, 1800, 3600, 3600):  # doubling, capped at cooldown_max
        blocked = _refused(client.credit)
        assert blocked.retry_at == clock.now + cooldown
        clock.now += cooldown - 1
        _refused(client.credit)  # not yet
        clock.now += 1
        before = len(server.received)
        _refused(client.credit, AuthenticationFailed)  # the probe reaches the server
        _refused(client.credit)  # and only the probe
        probes.append(len(server.received) - before)
    assert probes == [1, 1, 1, 1]


def test_a_probe_that_passes_unblocks_the_credential(server, make_client, guard, clock):
    server.queue = [json_response(ERR_100), json_response(CR_OK), json_response(CR_OK)]
    client = make_client(token="a" * 32, auth_guard=guard)
    _refused(client.credit, AuthenticationFailed)
    clock.now += 900
    assert client.credit() == 12.5
    assert client.credit() == 12.5
    assert len(server.received) == 3


def test_make_due_lets_the_probe_go_at_once(server, make_client, guard):
    server.queue = [json_response(ERR_100), json_response(CR_OK)]
    client = make_client(token="a" * 32, auth_guard=guard)
    _refused(client.credit, AuthenticationFailed)
    _refused(client.credit)
    assert guard.make_due(client._guard_key)
    assert client.credit() == 12.5
    assert not guard.make_due(client._guard_key)  # nothing blocked any more


def test_the_budget_refuses_passwords_and_new_tokens_but_not_proven_ones(
    server, make_client, guard, clock
):
    server.default = json_response(CR_OK)
    proven = make_client(username="steady", token="c" * 32, auth_guard=guard)
    assert proven.credit() == 12.5
    server.default = json_response(ERR_100)
    for n in range(5):  # five wrong passwords, for five accounts
        client = make_client(username=f"user{n}", token=None, auth_guard=guard)
        _refused(lambda c=client: c.get_token("wrong-password"), AuthenticationFailed)
    sent = len(server.received)
    spent = _refused(
        lambda: make_client(username="user9", token=None, auth_guard=guard).get_token("another-pw"),
        AuthBudgetSpent,
    )
    assert spent.failures == 5 and spent.retry_at == pytest.approx(clock.now + 600, abs=61)
    _refused(
        make_client(username="fresh", token="d" * 32, auth_guard=guard).credit, AuthBudgetSpent
    )
    assert len(server.received) == sent  # neither was sent
    server.default = json_response(CR_OK)
    assert proven.credit() == 12.5  # a token that has worked carries on
    state = guard.state(proven._guard_key[0], ["steady", "user0"])
    assert state.spent and state.failures == 5
    assert [(b.username, b.scope) for b in state.blocked] == [("user0", "password")]
    clock.now += 601  # the failures have left the window
    server.default = json_response(TOKEN_OK)
    assert make_client(username="user9", token=None, auth_guard=guard).get_token("another-pw")


class CountingStore(MemoryStore):
    def __init__(self, clock):
        super().__init__(clock)
        self.calls = []

    def get_many(self, keys):
        self.calls.append("get_many")
        return super().get_many(keys)

    def set(self, key, value, timeout=None):
        self.calls.append("set")
        return super().set(key, value, timeout)


def test_a_call_with_a_proven_token_costs_one_store_read(server, make_client, clock):
    store = CountingStore(clock)
    guard = AuthGuard(store, policy=POLICY, clock=clock)
    server.default = json_response(CR_OK)
    client = make_client(token="a" * 32, auth_guard=guard)
    client.credit()  # the first success proves the token: one read, one write
    assert store.calls == ["get_many", "set"]
    store.calls.clear()
    for _ in range(3):
        client.credit()
    assert store.calls == ["get_many"] * 3
