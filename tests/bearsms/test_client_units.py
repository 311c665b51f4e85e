"""Parsing, coercions, destinations and time zones of the BearSMS client."""

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from bearsms_portal.bearsms import (
    AccountStatus,
    DeliveryStatus,
    EmptyDestinationOrMessage,
    InvalidDestination,
    MalformedResponse,
    SendFailed,
    SendRejected,
    wire,
)
from bearsms_portal.bearsms.sending import _echo_matches
from tests.conftest import REPO_ROOT

from .support import Response, json_response


def test_package_imports_without_django_or_celery():
    """A bare ``import bearsms_portal.bearsms`` in a fresh interpreter loads neither."""
    code = (
        "import bearsms_portal.bearsms, sys; "
        "assert 'django' not in sys.modules and 'celery' not in sys.modules, "
        "sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'celery'))[:5]"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


# --- numbers in every form -------------------------------------------------------------------


@pytest.mark.parametrize("value", [30, "30", 30.0, " 30 "])
def test_ids_accept_json_ints_and_php7_strings(value):
    assert wire.as_int(value) == 30


@pytest.mark.parametrize("value", ["3x", "", None, True, 1.5])
def test_ids_reject_garbage(value):
    with pytest.raises(ValueError):
        wire.as_int(value)


@pytest.mark.parametrize(
    "value,expected",
    [
        ("0", Decimal(0)),
        (0, Decimal(0)),
        (97.5, Decimal("97.5")),
        ("97.5", Decimal("97.5")),
        (95, Decimal(95)),
        (-3, Decimal(-3)),
        (None, Decimal(0)),
    ],
)
def test_credit_forms(value, expected):
    assert wire.as_decimal(value) == expected


def test_listing_with_php7_strings(server, make_client):
    row = {
        "smslog_id": "30",
        "src": "1234",
        "dst": "628",
        "msg": "x",
        "dt": "2026-11-28 02:08:45",
        "update": "0000-00-00 00:00:00",
        "status": "1",
    }
    server.default = json_response(
        json.dumps({"data": [row], "error_string": None, "timestamp": 1})
    )
    [message] = make_client(tz_offset="+0700").delivery_status()
    assert message.smslog_id == 30 and message.status is DeliveryStatus.SENT
    assert message.update is None
    assert message.dt == datetime(2026, 11, 28, 2, 8, 45, tzinfo=UTC)  # consistent server


def test_unknown_delivery_status_is_malformed(server, make_client):
    row = {"smslog_id": 1, "src": "", "dst": "", "msg": "", "dt": "", "update": "", "status": 9}
    server.default = json_response(json.dumps({"data": [row], "timestamp": 1}))
    with pytest.raises(MalformedResponse):
        make_client().delivery_status()


def test_query_over_xml_is_nested(server, make_client):
    body = (
        b'<?xml version="1.0"?>\n<response><status>OK</status><error>0</error><data><user>'
        b"<username>alice</username><uid>2</uid><status>3</status><name>A</name><email/>"
        b"<mobile/><credit>97.5</credit></user><last_id><user_inbox>0</user_inbox>"
        b"<user_incoming>1</user_incoming><user_outgoing>21</user_outgoing></last_id>"
        b"</data><error_string/><timestamp>1795857096</timestamp></response>"
    )
    server.default = Response(200, "OK", [("Content-type", "text/xml;charset=UTF-8")], body)
    client = make_client(format="xml")
    summary = client.query()
    assert summary.status is AccountStatus.USER and summary.credit == Decimal("97.5")
    assert summary.email == "" and summary.last_outgoing_id == 21
    assert client.last_server_time == datetime.fromtimestamp(1795857096, UTC)
    assert server.received[0].form["format"] == "xml"


def test_php_serialize_parser():
    body = (
        b'a:3:{s:6:"status";s:2:"OK";s:4:"data";a:2:{i:0;i:5;i:1;d:2.5;}'
        b's:9:"caf\xc3\xa9 \xe2\x9c\x93";N;}'
    )
    assert wire.parse_body(body, "text/plain") == {"status": "OK", "data": [5, 2.5], "café ✓": None}


@pytest.mark.parametrize("body", [b'a:1:{s:6:"status";s:2:"OK"', b'O:8:"stdClass":0:{}'])
def test_php_serialize_garbage(body):
    with pytest.raises(wire.BodyError):
        wire.parse_body(body, "text/plain")


def test_xml_character_references_and_empty_elements():
    body = (
        b'<?xml version="1.0"?>\n<response><data><item><msg>caf&#xE9;</msg><dst/></item>'
        b"</data><error_string/></response>"
    )
    assert wire.parse_body(body) == {"data": [{"msg": "café", "dst": None}], "error_string": None}


# --- time zones ------------------------------------------------------------------------------


def test_field_offsets_on_the_capture_server():
    from bearsms_portal.bearsms import Client

    client = Client("http://x", "a", tz_offset="+0700", server_tz_offset="+0000")
    assert client.outgoing_offset == timedelta(hours=-7)
    assert client.incoming_offset == timedelta(0)
    assert client.internal_offset == timedelta(hours=-14)


def test_field_offsets_on_a_consistent_server_and_negative_zones():
    from bearsms_portal.bearsms import Client

    client = Client("http://x", "a", tz_offset="+0700")
    assert client.outgoing_offset == timedelta(0)
    assert client.incoming_offset == timedelta(hours=7)
    negative = Client("http://x", "a", tz_offset="-0500")
    assert negative.outgoing_offset == timedelta(hours=-5)  # clamped gateway offset is 0


def test_schedule_is_written_in_the_account_zone(server, make_client):
    ok = {
        "data": [
            {"status": "OK", "error": "0", "smslog_id": 8, "queue": "q" * 64, "to": "628123456797"}
        ],
        "error_string": None,
        "timestamp": 1,
    }
    server.default = json_response(json.dumps(ok))
    when = datetime(2030, 1, 1, 3, 0, tzinfo=UTC)
    make_client(tz_offset="+0700").send_message("628123456797", "later", schedule=when)
    assert server.received[0].form["schedule"] == "2030-01-01 10:00:00"
    make_client(tz_offset="+0700", account_tz_offset="-0500").send_message(
        "628123456797", "later", schedule=when.astimezone(timezone(timedelta(hours=-5)))
    )
    assert server.received[1].form["schedule"] == "2030-01-01 03:00:00"


def test_schedule_in_the_past_or_naive_is_refused(make_client):
    client = make_client()
    with pytest.raises(ValueError):
        client.send_message("628123", "x", schedule=datetime(2020, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError):
        client.send_message("628123", "x", schedule=datetime(2031, 1, 1))


# --- destinations ----------------------------------------------------------------------------


def pv_row(to, smslog_id=1, status="OK", error="0"):
    return {"status": status, "error": error, "smslog_id": smslog_id, "queue": "a" * 64, "to": to}


def pv_answer(*rows):
    return json_response(json.dumps({"data": list(rows), "error_string": None, "timestamp": 1}))


def test_one_request_per_destination_by_default(server, make_client):
    server.queue = [
        pv_answer(pv_row("628111")),
        pv_answer(pv_row("628222", 2)),
        pv_answer(pv_row("@bob", None)),
    ]
    results = make_client().send_message(["628111", "+62 822-2", "@bob"], "hi")
    assert [r.requested for r in results] == ["628111", "+628222", "@bob"]
    assert [r.to for r in results] == ["628111", "628222", "@bob"]
    assert [r.smslog_id for r in results] == [1, 2, None]
    assert [req.form["to"] for req in server.received] == ["628111", "+628222", "@bob"]
    assert results[2].is_internal


def test_a_comma_string_is_split(server, make_client):
    server.queue = [pv_answer(pv_row("628111")), pv_answer(pv_row("628222", 2))]
    results = make_client().send_message("628111,628222", "hi")
    assert len(results) == 2 and len(server.received) == 2


def test_mangled_list_is_detected(server, make_client):
    """playSMS 1.4.8 sends one SMS to 628123456791628 when given a list (cap 098)."""
    server.default = pv_answer(pv_row("628123456791628", 3))
    client = make_client(destinations_per_request=3)
    with pytest.raises(InvalidDestination) as info:
        client.send_message(["628123456791", "628123456792", "+628123456793"], "hello many")
    assert "mangled" in str(info.value)
    assert [r.to for r in info.value.results] == ["628123456791628"]
    assert server.received[0].form["to"] == "628123456791,628123456792,+628123456793"


def test_server_that_splits_lists_is_accepted(server, make_client):
    server.default = pv_answer(pv_row("628111"), pv_row("628222", 2))
    results = make_client(destinations_per_request=5).send_message(["628111", "628222"], "x")
    assert [r.smslog_id for r in results] == [1, 2] and len(server.received) == 1


@pytest.mark.parametrize(
    "asked,echoed,ok",
    [
        ("628111", "628111", True),
        ("+628111", "628111", True),
        ("628111", "+628111", True),
        ("0811223344", "62811223344", True),
        ("811223344", "62811223344", True),
        ("628123456791", "628123456791628", False),
        ("628111", "628112", False),
        ("628111", "", False),
        ("@bob", "@bob", True),
        ("@bob", "@alice", False),
    ],
)
def test_echo_matching(asked, echoed, ok):
    assert _echo_matches(asked, echoed) is ok


@pytest.mark.parametrize("bad", ["abc", "1234567890123456", "+62 811 x", "@Bob", "#a", "", " "])
def test_invalid_destinations_are_refused_before_sending(server, make_client, bad):
    with pytest.raises(InvalidDestination):
        make_client().send_message(bad, "hi")
    assert not server.received


def test_group_send_returns_each_row_including_failed_ones(server, make_client):
    server.default = pv_answer(pv_row("0890"), pv_row("", "", "ERR", "200"), pv_row("0891", 14))
    results = make_client().send_message("#TESTGROUP", "hello group")
    assert [r.ok for r in results] == [True, False, True]
    assert results[1].error == 200 and results[1].smslog_id is None
    assert all(r.requested == "#TESTGROUP" for r in results)


def test_php7_single_failure_row_raises_send_failed(server, make_client):
    server.default = pv_answer(pv_row("", "", "ERR", "200"))
    with pytest.raises(SendFailed) as info:
        make_client().send_message("628111", "x")
    assert info.value.results[0].ok is False


def test_php7_bare_envelope_for_pv_is_send_rejected(server, make_client):
    server.default = json_response('{"error_string":null,"timestamp":1}')
    with pytest.raises(SendRejected):
        make_client().send_message("@ghost", "x")


def test_later_failure_carries_earlier_results(server, make_client):
    server.queue = [
        pv_answer(pv_row("628111")),
        json_response('{"status":"ERR","error":"201","error_string":"empty","timestamp":1}'),
    ]
    with pytest.raises(EmptyDestinationOrMessage) as info:
        make_client().send_message(["628111", "628222"], "hi")
    assert [r.to for r in info.value.results] == ["628111"]


def test_flags_are_sent_as_one_and_zero(server, make_client):
    server.default = pv_answer(pv_row("628111"))
    make_client().send_message("628111", "hi", nofooter=False, unicode=True, msg_type="flash")
    form = server.received[0].form
    assert (form["nofooter"], form["unicode"], form["type"]) == ("0", "1", "flash")


def test_ws_login_url():
    from bearsms_portal.bearsms import Client

    url = Client("https://app.bearsms.com/", "admin", "t").ws_login_url("alice", "abc123")
    assert url == "https://app.bearsms.com/index.php?app=ws&op=ws_login&u=alice&login_key=abc123"


def test_account_conf_requires_footer_and_sender(make_client):
    with pytest.raises(TypeError):
        make_client().account_conf("alice", timezone="+0700")  # would wipe footer and sender


@pytest.mark.parametrize("amount", [0, -5, "abc", "NaN"])
def test_credit_amount_must_be_positive(make_client, amount):
    with pytest.raises(ValueError):
        make_client(username="admin").credit_add("alice", amount)


def test_listing_parameters_are_validated(make_client):
    with pytest.raises(ValueError):
        make_client().delivery_status(c=-1)
    with pytest.raises(ValueError):
        make_client().incoming(last="5; DROP")  # the server pastes it into SQL


def test_users_and_groups_go_alone_in_order(server, make_client):
    server.queue = [
        pv_answer(pv_row("628111"), pv_row("628222", 2)),
        pv_answer(pv_row("@bob", None)),
        pv_answer(pv_row("628333", 3)),
    ]
    results = make_client(destinations_per_request=2).send_message(
        ["628111", "628222", "@bob", "628333"], "hi"
    )
    assert [r.to for r in results] == ["628111", "628222", "@bob", "628333"]
    assert [req.form["to"] for req in server.received] == ["628111,628222", "@bob", "628333"]


def test_op_table_in_the_docstring_matches_the_client():
    import re

    import bearsms_portal.bearsms as package
    from bearsms_portal.bearsms import Client

    rows = re.findall(r"^(\w+)\s+``(\w+)``", package.__doc__, re.MULTILINE)
    assert len(rows) == 26
    for op, method in rows:
        assert callable(getattr(Client, method)), (op, method)
    for name in ("call", "iter_delivery_status", "iter_incoming", "iter_inbox", "iter_sandbox"):
        assert callable(getattr(Client, name))


# --- the op table ------------------------------------------------------------------------------


def test_op_table_matches_the_client_and_the_package_docstring():
    import bearsms_portal.bearsms as package
    from bearsms_portal.bearsms import OPS, Client

    documented = {}
    for line in package.__doc__.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1].startswith("``") and re.fullmatch(r"[a-z_]+", parts[0]):
            documented[parts[0]] = (parts[1].strip("`"), parts[2])
    auth_words = {"user": "user", "admin": "admin", "password": "pass", "none": "—"}
    assert documented == {str(op): (spec.method, auth_words[spec.auth]) for op, spec in OPS.items()}
    for spec in OPS.values():
        assert callable(getattr(Client, spec.method))
