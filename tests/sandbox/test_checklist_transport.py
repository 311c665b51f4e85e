"""Fidelity checklist §5.1, items 1–16: transport and envelope."""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode

import pytest

from .helpers import call, send

PHP_SESSION = re.compile(r"^PHPSESSID=[0-9a-v]{26}; path=/; HttpOnly; SameSite=Strict$")


@pytest.fixture
def sandbox(live_sandbox):
    """These are tests of the wire itself: always over real HTTP."""
    return live_sandbox


@pytest.fixture
def sandbox_playsms(live_sandbox_playsms):
    return live_sandbox_playsms


def _raw(sandbox, method="GET", query="", *, params=None, **kwargs):
    if params:
        query = f"{query}&{urlencode(params)}"
    return send(sandbox, method, query, **kwargs)


def test_checklist_01_get_and_post_form_and_multipart_body_overrides_query(sandbox):
    assert call(sandbox, "cr").json()["status"] == "OK"
    assert call(sandbox, "cr", method="POST").json()["status"] == "OK"
    multipart = _raw(
        sandbox,
        "POST",
        "app=ws",
        files={
            "op": (None, "cr"),
            "u": (None, sandbox.admin_username),
            "h": (None, sandbox.admin_token),
        },
    )
    assert multipart.json()["status"] == "OK"
    # the body's h (valid) overrides the query's h (invalid)
    overridden = _raw(
        sandbox, "POST", "app=ws&op=cr&u=admin&h=wrongtoken123", data={"h": sandbox.admin_token}
    )
    assert overridden.json()["status"] == "OK"
    creds = f"app=ws&op=cr&u=admin&h={sandbox.admin_token}"
    head = _raw(sandbox, "HEAD", creds)
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["Content-Type"] == "application/json"
    # other methods are handled like GET: the query string counts, a body is ignored
    assert _raw(sandbox, "PUT", creds, data={"h": "wrongtoken1"}).json()["status"] == "OK"
    assert _raw(sandbox, "DELETE", creds).json()["status"] == "OK"


def test_checklist_02_uri_without_app_ws_is_redirected_to_the_block_page(sandbox):
    block = "index.php?app=main&inc=core_auth&route=block&op=block"
    in_body = _raw(
        sandbox, "POST", "", data={"app": "ws", "op": "cr", "u": "admin", "h": sandbox.admin_token}
    )
    assert (in_body.status_code, in_body.headers["Location"]) == (302, block)
    upper = _raw(sandbox, "GET", f"app=WS&op=cr&u=admin&h={sandbox.admin_token}")
    assert (upper.status_code, upper.headers["Location"]) == (302, block)


def test_checklist_03_post_app_webservice_is_refused_get_and_webservices_are_served(sandbox):
    creds = {"op": "cr", "u": "admin", "h": sandbox.admin_token}
    assert _raw(sandbox, "POST", "app=webservice", data=creds).status_code == 302
    assert _raw(sandbox, "GET", "app=webservice", params=creds).json()["status"] == "OK"
    assert _raw(sandbox, "POST", "app=webservices", data=creds).json()["status"] == "OK"


def test_checklist_04_op_is_case_insensitive(sandbox):
    assert call(sandbox, "CR").json()["status"] == "OK"
    assert call(sandbox, "Cr").json()["status"] == "OK"


def test_checklist_05_missing_or_empty_op_gives_the_bare_envelope(sandbox):
    body = _raw(sandbox, query="app=ws").json()
    assert list(body) == ["error_string", "timestamp"] and body["error_string"] is None
    assert list(call(sandbox, "").json()) == ["error_string", "timestamp"]
    xml = _raw(sandbox, query="app=ws&format=xml").text
    assert re.fullmatch(
        r'<\?xml version="1.0"\?>\n<response><error_string/><timestamp>\d+</timestamp></response>',
        xml,
    )


def test_checklist_06_unknown_op_is_an_empty_html_200_whatever_the_format(sandbox):
    for fmt in (None, "xml", "serialize"):
        reply = call(sandbox, "foobar", fmt=fmt)
        assert reply.status_code == 200 and reply.content == b""
        assert reply.headers["Content-Type"] == "text/html; charset=UTF-8"


def test_checklist_06_credit_plugin_pseudo_op(sandbox):
    reply = call(sandbox, "credit")
    assert (reply.status_code, reply.text) == (200, "0.00")
    assert reply.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_checklist_07_content_types_per_format(sandbox):
    expected = {
        None: "application/json",
        "json": "application/json",
        "foo": "application/json",
        "xml": "text/xml;charset=UTF-8",
        "XML": "text/xml;charset=UTF-8",
        "serialize": "text/plain;charset=UTF-8",
    }
    for fmt, content_type in expected.items():
        assert call(sandbox, "cr", fmt=fmt).headers["Content-Type"] == content_type


def test_checklist_08_error_string_and_timestamp_are_the_last_two_keys(sandbox):
    ok = call(sandbox, "cr").json()
    assert list(ok)[-2:] == ["error_string", "timestamp"] and ok["error_string"] is None
    bad = call(
        sandbox,
        "accountadd",
        data_status=3,
        data_username="dave",
        data_password="abc",
        data_name="Dave",
        data_email="dave@example.org",
    ).json()
    assert list(bad) == ["status", "error", "info", "error_string", "timestamp"]
    assert bad["error_string"] == "fail to add account"
    call(sandbox, "stoplist", **{"from": "628111"})
    dup = call(sandbox, "stoplist", **{"from": "628111"}).json()
    assert dup["error"] == "627" and dup["error_string"] is None
    rows = call(sandbox, "pv", to="628111222", msg="x").json()
    assert list(rows) == ["data", "error_string", "timestamp"] and rows["error_string"] is None


def test_checklist_09_error_is_a_string_and_timestamp_an_int(sandbox):
    for reply in (call(sandbox, "cr"), call(sandbox, "cr", h="bad0token")):
        body = reply.json()
        assert isinstance(body["error"], str) and isinstance(body["timestamp"], int)


def test_checklist_10_json_escapes_slash_and_non_ascii_and_prints_whole_floats_as_ints(
    sandbox_playsms,
):
    sandbox = sandbox_playsms
    call(sandbox, "pv", to="628123456789", msg="a/b шалом")
    sandbox.settle()
    raw = call(sandbox, "ds").text
    assert "a\\/b \\u0448\\u0430\\u043b\\u043e\\u043c" in raw
    call(sandbox, "creditadd", data_username="admin", data_amount="95.0")
    assert (
        '"amount":95,' in call(sandbox, "creditadd", data_username="admin", data_amount="95.0").text
    )


def test_checklist_11_xml_one_line_items_empty_elements_hex_refs_and_lost_ampersand(
    sandbox_playsms,
):
    sandbox = sandbox_playsms
    call(sandbox, "pv", to="628123456789", msg="Tom & Jerry")
    call(sandbox, "pv", to="628123456790", msg="café 日本")
    sandbox.settle()
    body = call(sandbox, "ds", fmt="xml").text
    head, line = body.split("\n")
    assert head == '<?xml version="1.0"?>' and not body.endswith("\n")
    assert line.startswith("<response><data><item>") and "<error_string/>" in line
    assert "<msg>caf&#xE9; &#x65E5;&#x672C;</msg>" in line
    assert "<msg/>" in line  # the message with a bare & is lost


def test_checklist_12_serialize_keeps_php_types(sandbox):
    body = call(sandbox, "query", fmt="serialize").text
    assert body.startswith('a:5:{s:6:"status";s:2:"OK";s:5:"error";s:1:"0";')
    assert 's:3:"uid";i:' in body and 's:12:"error_string";N;' in body
    assert re.search(r's:9:"timestamp";i:\d+;}$', body)
    sandbox.create_user("alice", credit=2.5)
    token = sandbox.create_user("alicia", credit=2.5)
    assert 's:6:"credit";d:2.5;' in call(sandbox, "cr", u="alicia", h=token, fmt="serialize").text


def test_checklist_13_php_headers_on_every_reply(sandbox):
    replies = [
        call(sandbox, "cr"),
        call(sandbox, "foobar"),
        call(sandbox, "cr", h="bad"),
        call(sandbox, "ws_login", u="admin", login_key="x"),
    ]
    for reply in replies:
        assert PHP_SESSION.match(reply.headers["Set-Cookie"])
        assert reply.headers["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate"
        assert reply.headers["Expires"] == "Thu, 19 Nov 1981 08:52:00 GMT"
        assert reply.headers["X-Frame-Options"] == "SAMEORIGIN"
        assert reply.headers["Pragma"] == "no-cache"
    assert replies[0].headers["Set-Cookie"] != replies[1].headers["Set-Cookie"]


def test_checklist_14_array_parameter_is_an_empty_500_on_php8(sandbox_playsms, settings):
    sandbox = sandbox_playsms
    query = f"app=ws&op=pv&u=admin&h={sandbox.admin_token}&to[]=1&to[]=2&msg=x"
    reply = _raw(sandbox, query=query)
    assert (reply.status_code, reply.content) == (500, b"")
    settings.SANDBOX_SWITCHES = {"php8": False}  # PHP 7: treated as empty
    assert _raw(sandbox, query=query).json()["error"] == "201"


def test_checklist_15_json_request_body_is_ignored(sandbox):
    reply = _raw(
        sandbox,
        "POST",
        "app=ws",
        data=json.dumps({"op": "cr", "u": "admin", "h": sandbox.admin_token}),
        headers={"Content-Type": "application/json"},
    )
    assert list(reply.json()) == ["error_string", "timestamp"]


def test_checklist_16_input_normalisation(sandbox_playsms):
    sandbox = sandbox_playsms
    texts = {
        "628100000001": "  <b>bold</b> text  ",
        "628100000002": "a<b",
        "628100000003": "C:\\x `tick` <?php echo ?> end",
        "628100000004": 'Tom &amp; Jerry <3 "x"',
    }
    for number, text in texts.items():
        call(sandbox, "pv", to=number, msg=text)
    sandbox.settle()
    listed = {r["dst"]: r["msg"] for r in call(sandbox, "ds").json()["data"]}
    assert listed["628100000001"] == "bold text"
    assert listed["628100000002"] == "a"
    assert listed["628100000003"] == "C:x tick  echo  end"
    assert listed["628100000004"] == "Tom & Jerry <3 'x'"
