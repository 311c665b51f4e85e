"""Fidelity checklist §5.1, items 41–50: the listings and `inject`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils import timezone

from bearsms_portal.sandbox.models import Incoming, Outgoing

from .helpers import as_user, call

FATAL = "FATAL ERROR : Database query execution has failed"


def _ids(reply) -> list[int]:
    return [int(r.get("smslog_id", r.get("id"))) for r in reply.json()["data"]]


def _history(sandbox, count=12, **fields):
    """``count`` dispatched rows, one second apart, oldest first; returns their ids."""
    sandbox.add_outgoing("admin", count, **fields)
    return list(Outgoing.objects.order_by("id").values_list("id", flat=True))


def test_checklist_41_ds_filters(sandbox):
    for number, text in [("628123456790", "a"), ("08901230659", "b"), ("+62811777", "c")]:
        call(sandbox, "pv", to=number, msg=text)
    sandbox.settle()
    out = {r.dst: r for r in Outgoing.objects.all()}
    assert _ids(call(sandbox, "ds", smslog_id=out["08901230659"].pk)) == [out["08901230659"].pk]
    assert len(call(sandbox, "ds", src="1234").json()["data"]) == 3
    assert call(sandbox, "ds", src="123").json()["error"] == "400"  # exact
    assert _ids(call(sandbox, "ds", dst="628123456790")) == [out["628123456790"].pk]
    assert _ids(call(sandbox, "ds", dst="08901230659")) == [out["08901230659"].pk]
    assert _ids(call(sandbox, "ds", dst="99923456790")) == [out["628123456790"].pk]  # suffix
    assert len(call(sandbox, "ds", dst="628").json()["data"]) == 3  # ≤ 3 chars: everything
    # dst OR dt: a dt that matches every row brings them all back
    dt = call(sandbox, "ds").json()["data"][0]["dt"][:10]
    assert len(call(sandbox, "ds", dst="628123456790", dt=dt).json()["data"]) == 3
    assert call(sandbox, "ds", dst="628123456790", dt="1999").json()["data"][0]["dst"] == (
        "628123456790"
    )
    queue = out["+62811777"].queue.code
    assert _ids(call(sandbox, "ds", queue=queue, src="1234")) == [out["+62811777"].pk]


def test_checklist_42_newest_first_then_cut_last_is_not_a_cursor(sandbox):
    ids = _history(sandbox, 12)
    assert _ids(call(sandbox, "ds")) == ids[::-1]
    assert _ids(call(sandbox, "ds", c=3)) == ids[::-1][:3]
    # last=7&c=2 with rows 8–12 returns 12 and 11, not 8 and 9
    last = ids[6]
    assert _ids(call(sandbox, "ds", last=last, c=2)) == [ids[11], ids[10]]
    assert _ids(call(sandbox, "ds", c="2,2")) == ids[::-1][2:4]
    _history(sandbox, 150)
    assert len(call(sandbox, "ds").json()["data"]) == 100  # default c


def test_checklist_43_bad_c_or_last_is_the_fatal_text(sandbox):
    _history(sandbox, 2)
    for params in ({"c": "abc"}, {"c": "-1"}, {"last": "x"}):
        for op in ("ds", "in", "ix", "sx"):
            reply = call(sandbox, op, **params)
            assert (reply.status_code, reply.text) == (200, FATAL), (op, params)
            assert reply.headers["Content-Type"] == "text/html; charset=UTF-8"


def test_checklist_44_ds_row_shape_quotes_update_status(sandbox_playsms):
    sandbox = sandbox_playsms
    call(sandbox, "pv", to="628111", msg='say "hi"')
    start = timezone.now()  # after the send: a slow machine must not leave it undue
    sandbox.tick(now=start + timedelta(seconds=2))
    row = call(sandbox, "ds").json()["data"][0]
    assert list(row) == ["smslog_id", "src", "dst", "msg", "dt", "update", "status"]
    assert row["msg"] == "say 'hi'" and row["update"] == "0000-00-00 00:00:00"
    assert row["status"] == 0 and isinstance(row["smslog_id"], int)


def test_checklist_45_ds_no_rows_codes(sandbox):
    token = sandbox.create_user("alice")
    waiting = call(sandbox, "pv", to="628111", msg="x").json()["data"][0]["queue"]
    assert as_user(sandbox, "alice", token, "ds", queue=waiting).json()["error"] == "401"
    sandbox.settle()
    finished = waiting
    assert call(sandbox, "ds", queue=finished, src="nope").json()["error"] == "402"
    assert call(sandbox, "ds", queue="f" * 64).json()["error"] == "400"
    assert as_user(sandbox, "alice", token, "ds").json()["error"] == "400"
    processing = call(sandbox, "pv", to="628112", msg="x").json()["data"][0]["queue"]
    from bearsms_portal.sandbox.models import Queue

    Queue.objects.filter(code=processing).update(state=Queue.State.PROCESSING)
    assert call(sandbox, "ds", queue=processing).json()["error"] == "400"


def test_checklist_46_in_lists_handled_keyword_messages(sandbox_playsms):
    sandbox = sandbox_playsms
    token = sandbox.create_user("alice")
    sandbox.add_keyword("admin", "IDOL", feature="poll")
    sandbox.add_keyword("alice", "VOTE", feature="poll")
    now = timezone.now()  # one second for both: a tie in dt, which the server breaks by id
    sandbox.inject_incoming("+628987654331", "IDOL A", recvnum="1234", now=now)
    sandbox.inject_incoming("628987654332", "idol b", recvnum="1234", now=now)
    sandbox.inject_incoming("628987654333", "VOTE x")
    rows = call(sandbox, "in").json()["data"]
    assert [r["msg"] for r in rows] == ["A", "b"]
    assert list(rows[0]) == ["id", "src", "dst", "kwd", "msg", "dt", "status"]
    assert rows[0]["kwd"] == "IDOL" and rows[0]["status"] == 1
    assert len(call(sandbox, "in", kwd="idol").json()["data"]) == 2
    assert [r["src"] for r in call(sandbox, "in", src="+628987654331").json()["data"]] == [
        "+628987654331"
    ]
    assert (
        len(call(sandbox, "in", src="+628987654331", dt=rows[0]["dt"][:4]).json()["data"]) == 2
    )  # OR-ed
    assert call(sandbox, "in", kwd="VOTE").json()["error"] == "501"
    assert as_user(sandbox, "alice", token, "in").json()["data"][0]["kwd"] == "VOTE"


def test_checklist_47_ix_rows_and_501(sandbox):
    token = sandbox.create_user("alice")
    assert as_user(sandbox, "alice", token, "ix").json()["error"] == "501"
    call(sandbox, "pv", to="@alice", msg='say "hi"')
    row = as_user(sandbox, "alice", token, "ix").json()["data"][0]
    assert list(row) == ["id", "src", "dst", "msg", "dt"] and row["msg"] == "say 'hi'"


def test_checklist_48_sx_is_admin_only_and_lists_everything_unhandled(sandbox):
    token = sandbox.create_user("alice")
    call(sandbox, "inject", **{"from": "628111", "msg": "hello <b>there</b>"})
    call(sandbox, "inject", **{"from": "628112", "msg": "IDOL unknown keyword"})
    sandbox.settle()
    assert [r["msg"] for r in call(sandbox, "sx").json()["data"]] == [
        "hello there",
        "IDOL unknown keyword",
    ]
    assert as_user(sandbox, "alice", token, "sx").json()["error"] == "501"


def test_checklist_49_incoming_times_are_local_outgoing_are_gmt0(sandbox_playsms, settings):
    sandbox = sandbox_playsms
    settings.SANDBOX_SWITCHES = {"server_timezone": "+0700"}  # a consistent deployment
    now = datetime(2026, 11, 28, 9, 0, 0, tzinfo=UTC)
    sandbox.inject_incoming("628111", "hello", route=False)
    Incoming.objects.update(received_at=now)
    sandbox.tick(now=now + timedelta(seconds=2))
    assert call(sandbox, "sx").json()["data"][0]["dt"] == "2026-11-28 16:00:02"
    call(sandbox, "pv", to="628111", msg="x")
    from bearsms_portal.sandbox.models import Queue

    Queue.objects.update(created=now, scheduled="2026-11-28 09:00:00")
    sandbox.tick(now=now + timedelta(seconds=2))
    assert call(sandbox, "ds").json()["data"][0]["dt"] == "2026-11-28 09:00:02"


def test_checklist_50_inject(sandbox_playsms):
    sandbox = sandbox_playsms
    token = sandbox.create_user("alice")
    reply = call(sandbox, "inject", **{"from": "Alpha", "msg": "A&B <x"})
    assert reply.json() == {
        "status": "OK",
        "error": "0",
        "error_string": None,
        "timestamp": reply.json()["timestamp"],
    }
    assert call(sandbox, "sx").json()["error"] == "501"  # asynchronous
    sandbox.settle()
    row = call(sandbox, "sx").json()["data"][0]
    assert (row["src"], row["msg"]) == ("", "A&amp;B")
    assert call(sandbox, "inject", msg="x").json()["error"] == "602"
    assert call(sandbox, "inject", **{"from": "628111"}).json()["error"] == "602"
    assert (
        as_user(sandbox, "alice", token, "inject", **{"from": "1", "msg": "x"}).json()["error"]
        == "600"
    )
    sandbox.add_keyword("alice", "VOTE", feature="poll")
    call(sandbox, "inject", **{"from": "628111", "msg": "vote yes"})
    sandbox.settle()
    assert as_user(sandbox, "alice", token, "in").json()["data"][0]["msg"] == "yes"


def test_checklist_41_dt_windows_match_exactly_like_a_substring(sandbox_playsms):
    sandbox = sandbox_playsms
    start = datetime(2026, 11, 29, 6, 58, 30, tzinfo=UTC)  # 23:58:30 in GMT+0 here
    sandbox.add_outgoing("admin", 200, start=start, step_seconds=7)  # crosses midnight
    rows = list(Outgoing.objects.values_list("id", "dt"))
    for value in ("2026-11-28", "2026-11-29 ", "2026-11-29 00:1", "2026-", "00:1", "59", "2026"):
        expected = sorted(i for i, dt in rows if value in dt)
        assert expected, value
        assert sorted(_ids(call(sandbox, "ds", dt=value, c="1000"))) == expected, value
