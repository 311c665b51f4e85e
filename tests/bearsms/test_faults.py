"""Acceptance 2: every fault shape, the retry policy for reads and writes, and transport rules."""

import socket

import pytest

from bearsms_portal.bearsms import (
    AccountAdded,
    AuthenticationFailed,
    DatabaseFatal,
    MalformedResponse,
    OutcomeUnknown,
    SendRejected,
    ServerError,
    Timeout,
    TransportError,
    UnexpectedRedirect,
    UnknownOp,
    UnknownUserFatal,
)

from .conftest import TOKEN
from .support import Response, html_response, json_response

CR_OK = '{"status":"OK","error":"0","credit":"0","error_string":null,"timestamp":1795856777}'
EMPTY_500 = Response(500, "Internal Server Error", [("Content-type", "text/html; charset=UTF-8")])
FATAL = html_response(b"FATAL ERROR : Database query execution has failed")


def test_empty_200_html_is_unknown_op(server, make_client):
    server.default = html_response()
    with pytest.raises(UnknownOp) as info:
        make_client().call("foobar")
    assert info.value.op == "foobar" and info.value.http_status == 200


def test_empty_json_body_is_malformed(server, make_client):
    server.default = json_response("")
    with pytest.raises(MalformedResponse):
        make_client().credit()


@pytest.mark.parametrize(
    "body",
    [
        '{"status":"OK","error":"0","credit":',  # truncated
        "<html><body>Gateway error</body></html>",  # a proxy page
        "not json at all",
        '["a","list"]',  # JSON but not an envelope
    ],
)
def test_unparsable_bodies_are_malformed_with_a_short_excerpt(server, make_client, body):
    server.default = json_response(body)
    with pytest.raises(MalformedResponse) as info:
        make_client().credit()
    assert info.value.excerpt == body[:120].strip()
    assert len(info.value.excerpt) <= 121


def test_long_garbage_excerpt_is_short(server, make_client):
    server.default = json_response("x" * 5000)
    with pytest.raises(MalformedResponse) as info:
        make_client().credit()
    assert len(info.value.excerpt) <= 121 and info.value.excerpt.endswith("…")


def test_xml_with_a_dtd_is_refused(server, make_client):
    body = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><response>&a;</response>'
    server.default = Response(200, "OK", [("Content-Type", "text/xml")], body.encode())
    with pytest.raises(MalformedResponse):
        make_client().credit()


def test_fatal_text_is_database_fatal(server, make_client):
    server.default = FATAL
    with pytest.raises(DatabaseFatal) as info:
        make_client(username="admin").delivery_status()
    assert not isinstance(info.value, UnknownUserFatal)
    assert "FATAL ERROR" in info.value.excerpt


@pytest.mark.parametrize("method", ["credit_add", "credit_deduct"])
def test_fatal_on_credit_ops_means_unknown_user(server, make_client, method):
    server.default = FATAL
    with pytest.raises(UnknownUserFatal):
        getattr(make_client(username="admin"), method)("nosuchuser", 5)
    assert len(server.received) == 1  # a write: never retried


def test_fatal_on_loginkeyset_means_unknown_user(server, make_client):
    server.default = FATAL
    with pytest.raises(UnknownUserFatal):
        make_client(username="admin").login_key_set("nosuchuser")


def test_read_500_is_retried_then_server_error(server, make_client):
    server.default = EMPTY_500
    with pytest.raises(ServerError) as info:
        make_client(retries=2).credit()
    assert info.value.http_status == 500
    assert len(server.received) == 3


def test_read_500_then_success(server, make_client):
    server.queue = [EMPTY_500, json_response(CR_OK)]
    assert make_client(retries=2).credit() == 0
    assert len(server.received) == 2


def test_pv_500_is_send_rejected_and_not_retried(server, make_client):
    server.default = EMPTY_500
    with pytest.raises(SendRejected) as info:
        make_client(retries=3).send_message("628123456789", "hi")
    assert len(server.received) == 1
    assert info.value.results == []


def test_write_500_is_outcome_unknown_and_not_retried(server, make_client):
    server.default = EMPTY_500
    with pytest.raises(OutcomeUnknown):
        make_client(username="admin", retries=3).account_ban("bob")
    assert len(server.received) == 1


def test_accountadd_500_is_verified_with_parentget(server, make_client):
    no_parent = '{"status":"ERR","error":"610","error_string":"fail to get parent","timestamp":1}'
    server.queue = [EMPTY_500, json_response(no_parent)]
    result = make_client(username="admin").account_add(
        username="Frank Smith", password="secret1", name="Frank", email="f@example.org", status=3
    )
    assert result == AccountAdded(info=result.info, username="franksmith", verified=True)
    assert [r.form["op"] for r in server.received] == ["accountadd", "parentget"]
    assert server.received[1].form["data_username"] == "franksmith"


def test_accountadd_500_when_account_absent_stays_unknown(server, make_client):
    unknown = (
        '{"status":"ERR","error":"609","error_string":"get parent failed due to unknown '
        'username","timestamp":1}'
    )
    server.queue = [EMPTY_500, json_response(unknown)]
    with pytest.raises(OutcomeUnknown):
        make_client(username="admin").account_add(
            username="frank", password="secret1", name="F", email="f@example.org", status=3
        )


@pytest.mark.parametrize("status", [301, 302, 303, 307])
def test_redirects_are_not_followed(server, make_client, status):
    location = "index.php?app=main&inc=core_auth&route=block&op=block"
    server.default = Response(status, "Found", [("Location", location)])
    with pytest.raises(UnexpectedRedirect) as info:
        make_client().credit()
    assert info.value.location == location
    assert len(server.received) == 1


def test_http_404_is_a_protocol_error(server, make_client):
    server.default = Response(404, "Not Found", [("Content-Type", "text/html")], b"<h1>nope</h1>")
    from bearsms_portal.bearsms import ProtocolError

    with pytest.raises(ProtocolError) as info:
        make_client().credit()
    assert info.value.http_status == 404


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_connection_refused_is_transport_error_after_retries(make_client):
    from bearsms_portal.bearsms import Client, InMemoryAuthGuard

    client = Client(
        f"http://127.0.0.1:{_closed_port()}",
        "alice",
        TOKEN,
        retries=2,
        backoff=0,
        auth_guard=InMemoryAuthGuard(),
    )
    with pytest.raises(TransportError) as info:
        client.credit()
    assert not isinstance(info.value, Timeout)
    assert info.value.code is None and info.value.op == "cr"


def test_connection_refused_on_a_write_is_not_outcome_unknown():
    """Nothing left the machine: a plain transport error, safe to retry later."""
    from bearsms_portal.bearsms import Client, InMemoryAuthGuard

    client = Client(
        f"http://127.0.0.1:{_closed_port()}",
        "alice",
        TOKEN,
        retries=0,
        backoff=0,
        auth_guard=InMemoryAuthGuard(),
    )
    with pytest.raises(TransportError) as info:
        client.send_message("628123456789", "hi")
    assert not isinstance(info.value, OutcomeUnknown)


def test_read_timeout_is_retried_then_timeout(server, make_client):
    server.default = Response(
        200, "OK", [("Content-Type", "application/json")], CR_OK.encode(), delay=0.6
    )
    with pytest.raises(Timeout):
        make_client(timeout=0.2, retries=1).credit()
    assert len(server.received) == 2


def test_write_timeout_is_outcome_unknown_without_retry(server, make_client):
    server.default = Response(
        200, "OK", [("Content-Type", "application/json")], b'{"data":[]}', delay=0.6
    )
    with pytest.raises(OutcomeUnknown) as info:
        make_client(timeout=0.2, retries=3).send_message("628123456789", "hi")
    assert len(server.received) == 1
    assert info.value.op == "pv"


def test_connection_reset_after_sending_a_write_is_outcome_unknown(server, make_client):
    server.default = Response(reset=True)
    with pytest.raises(OutcomeUnknown):
        make_client(retries=3).stoplist_add("628111")
    assert len(server.received) == 1


def test_connection_reset_on_a_read_is_retried(server, make_client):
    server.queue = [Response(reset=True), json_response(CR_OK)]
    assert make_client(retries=1).credit() == 0
    assert len(server.received) == 2


def test_requests_are_post_with_app_ws_alone_in_the_url(server, make_client):
    server.default = json_response(CR_OK)
    make_client().credit()
    got = server.received[0]
    assert got.method == "POST"
    assert got.path == "/index.php"
    assert got.query == {"app": "ws"}
    assert got.form == {"op": "cr", "u": "alice", "h": TOKEN}
    assert "cookie" not in got.headers


def test_cookies_are_never_sent_back(server, make_client):
    cookie = ("Set-Cookie", "PHPSESSID=abc; path=/; HttpOnly; SameSite=Strict")
    server.default = Response(
        200, "OK", [("Content-Type", "application/json"), cookie], CR_OK.encode()
    )
    client = make_client()
    client.credit()
    client.credit()
    assert all("cookie" not in r.headers for r in server.received)


def test_err_100_is_not_retried(server, make_client):
    server.default = json_response(
        '{"status":"ERR","error":"100","error_string":"authentication failed","timestamp":1}'
    )
    with pytest.raises(AuthenticationFailed):
        make_client(retries=5).credit()
    assert len(server.received) == 1


def test_get_method_puts_everything_in_the_query_string(server, make_client):
    server.default = json_response(CR_OK)
    make_client(method="GET").credit()
    got = server.received[0]
    assert got.method == "GET" and got.query["app"] == "ws" and got.query["op"] == "cr"
