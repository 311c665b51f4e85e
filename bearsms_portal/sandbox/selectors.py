"""The listings (`ds`, `in`, `ix`, `sx`) with the real filters, ordering and `c`/`last` rules.

The trap is kept on purpose: rows above `last` are ordered newest first and *then* cut to `c`,
so `last=N&c=k` returns the k newest rows above N, not the next k.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from .models import Inbox, Incoming, Outgoing, Queue, SandboxUser
from .replies import DatabaseFatal

DEFAULT_LIMIT = 100


@dataclass
class Window:
    offset: int
    limit: int | None
    last: int | None


def window(c: str, last: str) -> Window:
    """`c` (default 100; ``a,b`` = offset a, b rows) and `last`; values that the real server
    would paste into broken SQL raise DatabaseFatal."""
    c, last = (c or "").strip(), (last or "").strip()
    offset, limit = 0, DEFAULT_LIMIT
    if c and c != "0":
        parts = c.split(",")
        if len(parts) > 2 or not all(re.fullmatch(r"\d+", p.strip()) for p in parts):
            raise DatabaseFatal
        if len(parts) == 2:
            offset, limit = int(parts[0]), int(parts[1])
        else:
            limit = int(parts[0])
    if last and not re.fullmatch(r"-?\d+", last):
        raise DatabaseFatal
    return Window(offset=offset, limit=limit, last=int(last) if last and last != "0" else None)


def suffix_rule(value: str) -> str | None:
    """`ds` dst / `in` src: drop 1 char (leading 0) or 3 chars, then match the ending.
    None means "matches everything"."""
    rest = value[1:] if value.startswith("0") else value[3:]
    return rest or None


_DT_TEMPLATE = "0000-00-00 00:00:00"


def dt_filter(value: str) -> Q:
    """`dt` is a substring match. A value shaped like the start of a ``YYYY-MM-DD hh:mm:ss``
    string of 4+ characters can only match at position 0 (only the year has 4 digits in a row),
    so it becomes a range on the stored string — which an index can serve."""
    prefix = value.rstrip("-: ")  # the same rows: every dt has these separators there
    fits = 4 <= len(prefix) <= len(_DT_TEMPLATE) and all(
        ch.isdigit() if t == "0" else ch == t for ch, t in zip(prefix, _DT_TEMPLATE, strict=False)
    )
    if not fits:
        return Q(dt__contains=value)
    upper = _increment(prefix)
    return Q(dt__gte=prefix, dt__lt=upper) if upper else Q(dt__gte=prefix)


def _increment(prefix: str) -> str | None:
    """The next prefix of the same shape ("2026-11-29" → "2026-11-30"), None after all 9s."""
    chars = list(prefix)
    for i in range(len(chars) - 1, -1, -1):
        if not chars[i].isdigit():
            continue
        if chars[i] != "9":
            chars[i] = chr(ord(chars[i]) + 1)
            return "".join(chars)
        chars[i] = "0"
    return None


def _src_dst_or_dt(number_field: str, number: str, dt: str) -> Q | None:
    """The number (suffix rule) and `dt` (substring) filters are OR-ed with each other."""
    parts = []
    if number:
        rest = suffix_rule(number)
        parts.append(Q(**{f"{number_field}__endswith": rest}) if rest else Q())
    if dt:
        parts.append(dt_filter(dt))
    if not parts:
        return None
    if any(p == Q() for p in parts):
        return Q()
    combined = parts[0]
    for part in parts[1:]:
        combined |= part
    return combined


def _cut(qs: QuerySet, win: Window) -> list:
    if win.last is not None:
        qs = qs.filter(id__gt=win.last)
    end = None if win.limit is None else win.offset + win.limit
    return list(qs[win.offset : end])


def outgoing(
    user: SandboxUser,
    *,
    queue: str = "",
    src: str = "",
    dst: str = "",
    dt: str = "",
    smslog_id: str = "",
    win: Window,
) -> list[dict]:
    qs = Outgoing.objects.filter(user=user, deleted=False, dt__isnull=False)
    if smslog_id and smslog_id != "0":
        if not re.fullmatch(r"\d+", smslog_id):
            return []
        qs = qs.filter(id=int(smslog_id))
    if queue:
        qs = qs.filter(queue__code=queue)
    if src:
        qs = qs.filter(src=src)
    either = _src_dst_or_dt("dst", dst, dt)
    if either is not None:
        qs = qs.filter(either)
    qs = qs.order_by("-dt", "-id").values("id", "src", "dst", "msg", "dt", "update", "status")
    return _cut(qs, win)


def queue_state(code: str) -> int | None:
    """Any user's queue, by code (only existence and state are revealed)."""
    if not code:
        return None
    return Queue.objects.filter(code=code).values_list("state", flat=True).first()


def incoming(
    user: SandboxUser, *, src: str = "", dst: str = "", kwd: str = "", dt: str = "", win: Window
) -> list[dict]:
    qs = Incoming.objects.filter(owner=user, state=Incoming.State.HANDLED, deleted=False).exclude(
        kwd=""
    )
    if dst:
        qs = qs.filter(dst=dst)
    if kwd:
        qs = qs.filter(kwd__iexact=kwd)
    either = _src_dst_or_dt("src", src, dt)
    if either is not None:
        qs = qs.filter(either)
    qs = qs.order_by("-dt", "id").values("id", "src", "dst", "kwd", "msg", "dt")
    return _cut(qs, win)


def inbox(user: SandboxUser, *, src: str = "", dst: str = "", dt: str = "", win: Window):
    qs = Inbox.objects.filter(user=user, deleted=False)
    return _plain_listing(qs, src=src, dst=dst, dt=dt, win=win)


def sandbox(*, src: str = "", dst: str = "", dt: str = "", win: Window) -> list[dict]:
    qs = Incoming.objects.filter(state=Incoming.State.UNHANDLED, deleted=False)
    return _plain_listing(qs, src=src, dst=dst, dt=dt, win=win)


def _plain_listing(qs: QuerySet, *, src: str, dst: str, dt: str, win: Window) -> list[dict]:
    if dst:
        qs = qs.filter(dst=dst)
    either = _src_dst_or_dt("src", src, dt)
    if either is not None:
        qs = qs.filter(either)
    return _cut(qs.order_by("-dt", "id").values("id", "src", "dst", "msg", "dt"), win)


def last_ids(user: SandboxUser) -> dict[str, int]:
    """`query` last_id: inbox, handled incoming, dispatched outgoing (0 when none)."""

    def top(qs) -> int:
        return qs.order_by("-id").values_list("id", flat=True).first() or 0

    return {
        "user_inbox": top(Inbox.objects.filter(user=user, deleted=False)),
        "user_incoming": top(
            Incoming.objects.filter(owner=user, state=Incoming.State.HANDLED, deleted=False)
        ),
        "user_outgoing": top(Outgoing.objects.filter(user=user, deleted=False, dt__isnull=False)),
    }
