"""A first pass over the core ops, in both profiles."""

from .helpers import as_user, call


def test_cr_and_bad_token(sandbox):
    reply = call(sandbox, "cr")
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "application/json"
    body = reply.json()
    assert body == {
        "status": "OK",
        "error": "0",
        "credit": "0",
        "error_string": None,
        "timestamp": body["timestamp"],
    }
    assert call(sandbox, "cr", h="0123456789abcdef").json()["error"] == "100"


def test_send_list_and_deliver(sandbox):
    rows = call(sandbox, "pv", to="628123456789", msg="hello").json()["data"]
    assert rows[0]["status"] == "OK" and len(rows[0]["queue"]) == 64
    assert call(sandbox, "ds", queue=rows[0]["queue"]).json()["error"] == "401"
    sandbox.settle()
    listed = call(sandbox, "ds").json()["data"]
    assert listed[0]["msg"] == "hello" and int(listed[0]["status"]) == 3


def test_get_token_accountadd_parentget_credit(sandbox):
    token = sandbox.create_user("alice", password="alicepass1")
    assert call(sandbox, "get_token", u="alice", h="", p="alicepass1").json()["token"] == token
    reply = call(
        sandbox,
        "accountadd",
        data_status=4,
        data_username="bob",
        data_password="bobpass1",
        data_name="Bob",
        data_email="bob@example.org",
        data_parent="alice",
    )
    assert reply.status_code == (500 if sandbox.profile == "playsms-1.4.8" else 200)
    assert call(sandbox, "parentget", data_username="bob").json()["parent"] == "alice"
    assert call(sandbox, "creditview", data_username="alice").json()["error"] == "620"
    added = call(sandbox, "creditadd", data_username="alice", data_amount="2.5").json()
    assert added["amount"] == 2.5
    assert (
        as_user(sandbox, "alice", token, "creditview", data_username="alice").json()["error"]
        == "600"
    )


def test_incoming_inbox_and_sandbox(sandbox):
    sandbox.add_keyword("admin", "IDOL", feature="poll")
    sandbox.inject_incoming("+628987654321", "IDOL A", recvnum="1234")
    sandbox.inject_incoming("628987654323", "nobody handles this")
    assert call(sandbox, "in").json()["data"][0]["kwd"] == "IDOL"
    assert call(sandbox, "sx").json()["data"][0]["msg"] == "nobody handles this"
    token = sandbox.create_user("alice")
    call(sandbox, "pv", to="@alice", msg="hi alice")
    assert as_user(sandbox, "alice", token, "ix").json()["data"][0]["src"] == "@admin"
    assert [r.op for r in sandbox.requests()] == ["in", "sx", "pv", "ix"]
