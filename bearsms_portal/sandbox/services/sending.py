"""`pv`: resolving destinations, queueing, the credit pre-check and `@user` messages (§4.1).

Nothing is sent here: the call creates a waiting queue whose rows get their `smslog_id` now and
appear in `ds` only when the lifecycle tick dispatches them.
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from .. import clock
from ..models import Inbox, Outgoing, PhonebookGroup, Queue, SandboxUser, StoplistEntry
from ..profiles import Switches
from ..sanitize import decoded, php_truthy
from .auth import find_live, is_banned
from .credit import charge_for, payer_of


class NothingQueued(Exception):
    """The send produced no result row at all (HTTP 500 on PHP 8)."""

    def __init__(self, reason: str, *, queue_code: str = "", only_users: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.queue_code = queue_code
        self.only_users = only_users


class NotEnoughCredit(NothingQueued):
    def __init__(self, queue_code: str):
        super().__init__("credit", queue_code=queue_code)


@dataclass
class Message:
    """A `pv` call's parameters after the input sanitiser."""

    to: str
    msg: str
    sender: str = ""
    footer: str = ""
    nofooter: str = ""
    sms_type: str = ""
    unicode: int = 0
    schedule: str = ""


ERR_200_ROW = {"status": "ERR", "error": "200", "smslog_id": "", "queue": "", "to": ""}


def new_queue_code() -> str:
    return secrets.token_hex(32)


# --- destinations ------------------------------------------------------------------------------
def normalise_number(raw: str, account: SandboxUser, sw: Switches) -> str:
    """Digits and `+` only, cut to 15; `local_length` prefixing; `replace_zero`; the server's
    plus-sign flags."""
    number = re.sub(r"[^0-9+]", "", raw)[:15]
    if not number:
        return ""
    prefix = re.sub(r"\D", "", account.replace_zero or sw.default_replace_zero)
    if (
        prefix
        and account.local_length > 0
        and len(number) == account.local_length
        and not number.startswith("0")
    ):
        number = prefix + number
    if prefix and number.startswith("0"):
        number = prefix + number[1:]
    if sw.plus_sign_remove:
        number = number.replace("+", "")
    if sw.plus_sign_add:
        number = "+" + number.lstrip("+")
    return number


def find_group(account: SandboxUser, code: str) -> PhonebookGroup | None:
    """`#code`: case-insensitive substring of a visible group's name or code; first wins."""
    code = re.sub(r"[^A-Za-z0-9_-]", "", code)
    if len(code) < 2:
        return None
    visible = PhonebookGroup.objects.filter(Q(owner=account) | Q(flag_sender=2))
    return visible.filter(Q(name__icontains=code) | Q(code__icontains=code)).order_by("id").first()


def destinations(to: str, sw: Switches) -> list[str]:
    """1.4.8 wraps the whole `to` in a one-element list; the seed promises a comma list."""
    if sw.split_destinations:
        return [part.strip() for part in to.split(",") if part.strip()]
    return [to]


def is_stoplisted(number: str) -> bool:
    return StoplistEntry.objects.filter(mobile=number).exists()


# --- the message body --------------------------------------------------------------------------
def _sender_id(account: SandboxUser, requested: str, sw: Switches) -> str:
    requested = re.sub(r"[^A-Za-z0-9 +\-_]", "", requested)
    requested = requested[:11] if re.search(r"[A-Za-z]", requested) else requested[:16]
    if requested and account.sender_ids.filter(sender_id=requested, approved=True).exists():
        return requested
    return sw.default_sender or account.sender


def _footer(account: SandboxUser, message: Message) -> str:
    if php_truthy(message.nofooter):
        return ""
    custom = re.sub(r"[^A-Za-z0-9 +\-_@]", "", message.footer)[:30]
    return custom or account.footer


def _body(account: SandboxUser, text: str, sw: Switches) -> str:
    """CRLF → LF, entities decoded, silently truncated (the cut is made on bytes)."""
    text = decoded(text).replace("\r\n", "\n")
    part = 153 if sw.sms_max_count > 1 else 160
    limit = sw.sms_max_count * part - (len(account.footer) + 1)
    if len(text) > limit:
        text = text.encode()[:limit].decode("utf-8", "ignore")
    return text


# --- queueing ----------------------------------------------------------------------------------
def queue_numbers(
    *,
    account: SandboxUser,
    numbers: list[str],
    text: str,
    sender: str,
    footer: str,
    unicode: int = 0,
    sms_type: str = "text",
    scheduled: str,
    now: datetime,
    check_credit: bool = True,
) -> tuple[Queue, list[dict]]:
    """Create a queue and one outgoing row per number; returns the `pv` rows (OK or ERR 200).

    Raises NotEnoughCredit / NothingQueued, leaving a finished, empty queue behind (so `ds`
    by that queue answers 402, as on the real server)."""
    queue = Queue.objects.create(
        code=new_queue_code(),
        user=account,
        state=Queue.State.CREATING,
        created=now,
        scheduled=scheduled,
    )
    unique = list(dict.fromkeys(n for n in numbers if n))
    length = len(text) + (len(footer) + 1 if footer else 0)
    charges = {n: charge_for(n, length, unicode=unicode == 1) for n in unique}
    if not unique:
        _finish_empty(queue)
        raise NothingQueued("number", queue_code=queue.code)
    if check_credit and payer_of(account).credit - sum(charges.values(), Decimal(0)) < 0:
        _finish_empty(queue)
        raise NotEnoughCredit(queue.code)
    rows: list[dict] = []
    with transaction.atomic():
        for number in unique:
            if is_stoplisted(number):
                rows.append(dict(ERR_200_ROW))
                continue
            out = Outgoing.objects.create(
                user=account,
                queue=queue,
                src=sender,
                dst=number,
                msg=text,
                footer=footer,
                unicode=unicode,
                sms_type=sms_type or "text",
                charge=charges[number],
            )
            rows.append(
                {
                    "status": "OK",
                    "error": "0",
                    "smslog_id": out.pk,
                    "queue": queue.code,
                    "to": number,
                }
            )
    if not any(r["status"] == "OK" for r in rows):
        _finish_empty(queue)
        raise NothingQueued("stoplisted", queue_code=queue.code)
    queue.state = Queue.State.WAITING
    queue.save(update_fields=["state"])
    return queue, rows


_answer_ids = itertools.count(1)


def answer_only(account: SandboxUser, to: str, sw: Switches) -> dict:
    """``SANDBOX_PV_ANSWER_ONLY``: the reply row of a queued number, with nothing queued.

    The smslog_id is unique within the run (the process id, then a counter: several server
    processes never hand out the same one) but not consecutive, and ``ds`` never lists it.
    """
    number = normalise_number(to, account, sw)
    if not number:
        raise NothingQueued("number")
    smslog_id = (os.getpid() << 24) | next(_answer_ids)
    return {
        "status": "OK",
        "error": "0",
        "smslog_id": smslog_id,
        "queue": new_queue_code(),
        "to": number,
    }


def _finish_empty(queue: Queue) -> None:
    queue.state = Queue.State.FINISHED
    queue.save(update_fields=["state"])


def send_to_user(*, account: SandboxUser, username: str, text: str, now, sw) -> dict | None:
    """`@user`: a copy in the target's inbox (entities kept), free; None when dropped."""
    target = find_live(username)
    if target is None or target.pk == account.pk or is_banned(target) or not target.fwd_to_inbox:
        return None
    Inbox.objects.create(
        user=target,
        src=f"@{account.username}",
        dst="",
        msg=text,
        dt=clock.user_message_dt(now, account.datetime_timezone, sw),
    )
    return {
        "status": "OK",
        "error": "0",
        "smslog_id": None,
        "queue": new_queue_code(),
        "to": f"@{username}",
    }


def send(*, account: SandboxUser, message: Message, now: datetime, sw: Switches) -> list[dict]:
    """The whole `pv`: returns the reply rows or raises NothingQueued."""
    if settings.SANDBOX_PV_ANSWER_ONLY and message.to[:1] not in ("@", "#"):
        return [answer_only(account, message.to, sw)]
    targets = destinations(message.to, sw)
    numbers: list[str] = []
    user_rows: list[dict] = []
    for dest in targets:
        if dest.startswith("@"):
            row = send_to_user(account=account, username=dest[1:], text=message.msg, now=now, sw=sw)
            if row:
                user_rows.append(row)
        elif dest.startswith("#"):
            group = find_group(account, dest[1:])
            if group is not None:
                members = group.contacts.order_by("id").values_list("mobile", flat=True)
                numbers.extend(normalise_number(m, account, sw) for m in members)
        else:
            numbers.append(normalise_number(dest, account, sw))
    phone_rows: list[dict] = []
    if any(not dest.startswith("@") for dest in targets):
        scheduled = clock.parse_schedule(message.schedule, account.datetime_timezone, now, sw)
        try:
            _, phone_rows = queue_numbers(
                account=account,
                numbers=numbers,
                text=_body(account, message.msg, sw),
                sender=_sender_id(account, message.sender, sw),
                footer=_footer(account, message),
                unicode=message.unicode,
                sms_type=message.sms_type,
                scheduled=scheduled,
                now=now,
            )
        except NothingQueued as failure:
            if not user_rows or isinstance(failure, NotEnoughCredit):
                raise
    if not phone_rows and not user_rows:
        raise NothingQueued("user", only_users=True)  # only @user targets, none delivered
    return phone_rows + user_rows
