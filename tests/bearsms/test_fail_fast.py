"""Acceptance 2: after an auth failure the same credentials fail fast, without a request.

The real server blacklists the caller's IP for every account after ~10 counted failures, so
a single stale token must not be retried by every page view and task.
"""

import pytest

from bearsms_portal.bearsms import (
    AdminAuthFailed,
    AuthBlocked,
    AuthenticationFailed,
    Client,
    InMemoryAuthGuard,
    auth,
)

from .support import json_response

ERR_100 = '{"status":"ERR","error":"100","error_string":"authentication failed","timestamp":1}'
ERR_600 = (
    '{"status":"ERR","error":"600","error_string":"admin level authentication failed",'
    '"timestamp":1}'
)
CR_OK = '{"status":"OK","error":"0","credit":12.5,"error_string":null,"timestamp":1}'
TOKEN_A = "a" * 32
TOKEN_B = "b" * 32


def test_second_call_with_a_failed_token_sends_nothing(server, make_client):
    server.default = json_response(ERR_100)
    client = make_client(token=TOKEN_A)
    with pytest.raises(AuthenticationFailed):
        client.credit()
    for _ in range(20):
        with pytest.raises(AuthBlocked) as info:
            client.delivery_status()
        assert info.value.code == 100
    assert len(server.received) == 1


def test_a_new_client_with_the_same_token_is_blocked_too(server, make_client):
    server.default = json_response(ERR_100)
    with pytest.raises(AuthenticationFailed):
        make_client(token=TOKEN_A).credit()
    with pytest.raises(AuthBlocked):
        make_client(token=TOKEN_A).credit()
    assert len(server.received) == 1


def test_a_new_token_is_tried_and_success_clears(server, make_client):
    server.queue = [json_response(ERR_100), json_response(CR_OK), json_response(CR_OK)]
    client = make_client(token=TOKEN_A)
    with pytest.raises(AuthenticationFailed):
        client.credit()
    client.token = TOKEN_B
    assert client.credit() == 12.5
    assert client.credit() == 12.5
    assert len(server.received) == 3


def test_other_accounts_are_not_affected(server, make_client):
    server.queue = [json_response(ERR_100), json_response(CR_OK)]
    with pytest.raises(AuthenticationFailed):
        make_client(username="alice", token=TOKEN_A).credit()
    assert make_client(username="bob", token=TOKEN_A).credit() == 12.5


def test_clear_auth_failure_allows_one_more_try(server, make_client):
    server.queue = [json_response(ERR_100), json_response(CR_OK)]
    client = make_client(token=TOKEN_A)
    with pytest.raises(AuthenticationFailed):
        client.credit()
    client.clear_auth_failure()
    assert client.credit() == 12.5


def test_admin_600_blocks_admin_ops_but_not_user_ops(server, make_client):
    server.queue = [json_response(ERR_600), json_response(CR_OK)]
    client = make_client(username="alice", token=TOKEN_A)
    with pytest.raises(AdminAuthFailed):
        client.account_ban("bob")
    with pytest.raises(AuthBlocked) as info:
        client.credit_view("bob")
    assert info.value.code == 600 and isinstance(info.value, AuthenticationFailed)
    assert client.credit() == 12.5  # the token is fine for user ops
    assert len(server.received) == 2


def test_user_100_blocks_admin_ops_as_well(server, make_client):
    server.default = json_response(ERR_100)
    client = make_client(token=TOKEN_A)
    with pytest.raises(AuthenticationFailed):
        client.credit()
    with pytest.raises(AuthBlocked):
        client.account_ban("bob")


def test_get_token_wrong_password_is_not_tried_twice(server, make_client):
    ok = '{"status":"OK","error":"0","token":"' + TOKEN_B + '","error_string":null,"timestamp":1}'
    server.queue = [json_response(ERR_100), json_response(ok)]
    client = make_client(token=None)
    with pytest.raises(AuthenticationFailed):
        client.get_token("wrong-password")
    with pytest.raises(AuthBlocked):
        client.get_token("wrong-password")
    assert client.get_token("right-password") == TOKEN_B
    assert client.token == TOKEN_B
    assert len(server.received) == 2
    assert "h" not in server.received[0].form  # get_token sends the password, not a token


def test_default_guard_is_process_wide(server):
    server.default = json_response(ERR_100)
    token = "c" * 32
    try:
        with pytest.raises(AuthenticationFailed):
            Client(server.base_url, "carol", token, backoff=0).credit()
        with pytest.raises(AuthBlocked):
            Client(server.base_url, "carol", token, backoff=0).credit()
    finally:
        auth.DEFAULT_AUTH_GUARD.clear((server.base_url + "/index.php", "carol"))


def test_guard_keeps_no_token(server, make_client):
    server.default = json_response(ERR_100)
    guard = InMemoryAuthGuard()
    with pytest.raises(AuthenticationFailed):
        make_client(token=TOKEN_A, auth_guard=guard).credit()
    assert guard.store._data
    assert TOKEN_A not in repr(guard.store._data)
