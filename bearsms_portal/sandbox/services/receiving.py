"""Incoming SMS: `inject` and the asynchronous routing the daemon does afterwards (§4.13).

Routing, as the real server does it: the sender is cut to digits and `+`; a stoplisted sender is
dropped; the first word is looked up as a feature keyword. A match makes a *handled* row for the
keyword's owner (`in`); an autoreply keyword counts only when a scenario for the next word exists
(and then queues the reply); an inbox-group keyword also drops a copy into the owner's inbox
(`ix`). Anything else is *unhandled* and goes to the sandbox (`sx`), owned by the main admin.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.db import transaction

from .. import clock
from ..models import Inbox, Incoming, Keyword, SandboxUser
from ..profiles import Switches
from .sending import is_stoplisted, queue_numbers


def inject(*, sender: str, text: str, recvnum: str = "", smsc: str = "", now: datetime) -> Incoming:
    """Queue an incoming SMS for receive processing; the reply carries no id."""
    return Incoming.objects.create(
        src=sender,
        dst=recvnum,
        raw=text,
        msg=text,
        smsc=smsc,
        received_at=now,
        state=Incoming.State.RECEIVED,
    )


def main_admin() -> SandboxUser | None:
    return SandboxUser.objects.filter(is_main_admin=True, deleted=False).first()


@transaction.atomic
def route(row: Incoming, *, now: datetime, sw: Switches) -> Incoming:
    row.src = re.sub(r"[^0-9+]", "", row.src)
    # The stored time is shifted back by the receiving account's own zone (§1.7).
    row.dt = clock.incoming_dt(now, "", sw)
    if row.src and is_stoplisted(row.src):
        row.state = Incoming.State.DROPPED
        row.save()
        return row
    words = row.raw.split(" ")
    keyword = Keyword.objects.filter(keyword=words[0].upper()).select_related("owner").first()
    if keyword is not None:
        row.dt = clock.incoming_dt(now, keyword.owner.datetime_timezone, sw)
    if keyword is not None and _handles(keyword, words, row, now=now, sw=sw):
        row.state, row.owner, row.kwd = Incoming.State.HANDLED, keyword.owner, keyword.keyword
        row.msg = " ".join(words[1:])
    else:
        admin = main_admin()
        row.dt = clock.incoming_dt(now, admin.datetime_timezone if admin else "", sw)
        row.state, row.owner, row.kwd, row.msg = Incoming.State.UNHANDLED, admin, "", row.raw
    row.save()
    return row


def _handles(keyword: Keyword, words: list[str], row: Incoming, *, now, sw) -> bool:
    if keyword.feature == Keyword.Feature.AUTOREPLY:
        param = words[1].upper() if len(words) > 1 else ""
        scenario = keyword.scenarios.filter(param=param).first()
        if scenario is None:
            return False
        if row.src:
            queue_numbers(
                account=keyword.owner,
                numbers=[row.src],
                text=scenario.reply,
                sender=sw.default_sender or keyword.owner.sender,
                footer="",
                scheduled=clock.fmt(clock.gmt0(now, sw)),
                now=now,
                check_credit=False,
            )
        return True
    if keyword.feature == Keyword.Feature.INBOX:
        Inbox.objects.create(user=keyword.owner, src=row.src, dst=row.dst, msg=row.raw, dt=row.dt)
    return True


def process_received(*, now: datetime, sw: Switches) -> int:
    due = now - timedelta(seconds=sw.receive_delay)
    rows = list(
        Incoming.objects.filter(state=Incoming.State.RECEIVED, received_at__lte=due).order_by("id")
    )
    for row in rows:
        route(row, now=now, sw=sw)
    return len(rows)
