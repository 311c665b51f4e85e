"""Messages: `pv`, the listings `ds` `in` `ix` `sx`, `inject` and `stoplist`."""

from __future__ import annotations

from .. import selectors
from ..models import Level, Queue, StoplistEntry
from ..replies import PhpFatal, err, ok
from ..sanitize import php_int
from ..services import receiving, sending
from .base import Ctx, op

LIST_PARAMS = ("src", "dst", "dt", "c", "last")


@op(
    "pv",
    auth="user",
    params=("to", "msg", "from", "footer", "nofooter", "type", "unicode", "schedule"),
)
def pv(ctx: Ctx):
    to, msg = ctx.get("to"), ctx.get("msg")
    if to in ("", "0") or msg in ("", "0"):
        return err(201)
    message = sending.Message(
        to=to,
        msg=msg,
        sender=ctx.get("from"),
        footer=ctx.get("footer"),
        nofooter=ctx.get("nofooter"),
        sms_type=ctx.get("type") or "text",
        unicode=php_int(ctx.get("unicode")),
        schedule=ctx.get("schedule"),
    )
    try:
        rows = sending.send(account=ctx.user, message=message, now=ctx.now, sw=ctx.sw)
    except sending.NothingQueued as failure:
        return _nothing_queued(ctx, failure)
    return {"data": rows}


def _nothing_queued(ctx: Ctx, failure: sending.NothingQueued):
    if ctx.sw.err_103 and isinstance(failure, sending.NotEnoughCredit):
        return err(103)
    if ctx.sw.php8:
        raise PhpFatal  # count() on a non-array
    if failure.only_users:
        return {}
    row = {"status": "ERR", "error": "200", "smslog_id": "", "queue": failure.queue_code, "to": ""}
    return {"data": [row]}


def _msg(text: str) -> str:
    return text.replace('"', "'")


@op("ds", auth="user", params=("queue", "smslog_id", *LIST_PARAMS))
def ds(ctx: Ctx):
    win = selectors.window(ctx.get("c"), ctx.get("last"))
    rows = selectors.outgoing(
        ctx.user,
        queue=ctx.get("queue"),
        src=ctx.get("src"),
        dst=ctx.get("dst"),
        dt=ctx.get("dt"),
        smslog_id=ctx.get("smslog_id"),
        win=win,
    )
    if not rows:
        state = selectors.queue_state(ctx.get("queue"))
        if state == Queue.State.WAITING:
            return err(401)
        if state == Queue.State.FINISHED:
            return err(402)
        return err(400)
    return {
        "data": [
            {
                "smslog_id": ctx.db_int(r["id"]),
                "src": r["src"],
                "dst": r["dst"],
                "msg": _msg(r["msg"]),
                "dt": r["dt"],
                "update": r["update"],
                "status": ctx.db_int(r["status"]),
            }
            for r in rows
        ]
    }


@op("in", auth="user", params=("kwd", *LIST_PARAMS))
def incoming(ctx: Ctx):
    win = selectors.window(ctx.get("c"), ctx.get("last"))
    rows = selectors.incoming(
        ctx.user,
        src=ctx.get("src"),
        dst=ctx.get("dst"),
        kwd=ctx.get("kwd"),
        dt=ctx.get("dt"),
        win=win,
    )
    if not rows:
        return err(501)
    return {
        "data": [
            {
                "id": ctx.db_int(r["id"]),
                "src": r["src"],
                "dst": r["dst"],
                "kwd": r["kwd"],
                "msg": _msg(r["msg"]),
                "dt": r["dt"],
                "status": ctx.db_int(1),
            }
            for r in rows
        ]
    }


def _plain_rows(ctx: Ctx, rows: list[dict]):
    if not rows:
        return err(501)
    return {
        "data": [
            {
                "id": ctx.db_int(r["id"]),
                "src": r["src"],
                "dst": r["dst"],
                "msg": _msg(r["msg"]),
                "dt": r["dt"],
            }
            for r in rows
        ]
    }


@op("ix", auth="user", params=LIST_PARAMS)
def inbox(ctx: Ctx):
    win = selectors.window(ctx.get("c"), ctx.get("last"))
    return _plain_rows(
        ctx,
        selectors.inbox(
            ctx.user, src=ctx.get("src"), dst=ctx.get("dst"), dt=ctx.get("dt"), win=win
        ),
    )


@op("sx", auth="user", params=LIST_PARAMS)
def sandbox(ctx: Ctx):
    if ctx.user.status != Level.ADMIN:
        return err(501)
    win = selectors.window(ctx.get("c"), ctx.get("last"))
    return _plain_rows(
        ctx, selectors.sandbox(src=ctx.get("src"), dst=ctx.get("dst"), dt=ctx.get("dt"), win=win)
    )


@op("inject", auth="admin", params=("from", "msg", "recvnum", "smsc"))
def inject(ctx: Ctx):
    if not ctx.get("from") or not ctx.get("msg"):
        return err(602)
    receiving.inject(
        sender=ctx.get("from"),
        text=ctx.get("msg"),
        recvnum=ctx.get("recvnum"),
        smsc=ctx.get("smsc"),
        now=ctx.now,
    )
    return ok()


@op("stoplist", auth="user", params=("from",))
def stoplist(ctx: Ctx):
    number = ctx.get("from")
    if not number:
        return {}
    if StoplistEntry.objects.filter(mobile=number).exists():
        return err(627)
    StoplistEntry.objects.create(mobile=number.lstrip("+"))
    return ok()
