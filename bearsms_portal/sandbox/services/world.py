"""Building sandbox state directly (what a BearSMS operator does in the web UI or the DB):
the main admin, ready-to-use API accounts, bulk message history, injected SMS, keywords, rates.

Used by ``sandbox_seed``, the pytest fixtures and the benchmarks, so tests build their world
through the same code paths the server uses.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from .. import clock, profiles
from ..models import AutoreplyScenario, Keyword, Level, Outgoing, Queue, Rate, SandboxUser
from .accounts import approve_sender_id, create_account, enable_webservices
from .auth import find_live, hash_password
from .credit import set_credit
from .receiving import inject
from .sending import new_queue_code

LOCAL_IPS = "127.0.0.1, ::1, 192.168.*.*"
DEFAULT_PASSWORD = "sandbox-pass"  # noqa: S105 - a demo password of the sandbox world
ADMIN_PASSWORD = "admin"  # noqa: S105 - playSMS's shipped admin password


@transaction.atomic
def ensure_main_admin(username: str = "admin", *, token: str, password: str = ADMIN_PASSWORD):
    """The main admin (uid 1 on a real server), with webservices on and the given token."""
    admin = SandboxUser.objects.filter(is_main_admin=True, deleted=False).first() or find_live(
        username
    )
    if admin is None:
        admin = SandboxUser(
            username=username,
            name="Administrator",
            email="noreply@playsms.org",
            mobile="+62000000000",
            # The shipped admin's configuration (server-findings, second round).
            footer=f"@{username}",
            sender="playSMS",
            language_module="en_US",
            fwd_to_email=True,
            local_length=0,
        )
    admin.username, admin.status, admin.is_main_admin = username, Level.ADMIN, True
    admin.password_hash = admin.password_hash or hash_password(password)
    admin.save()
    if admin.sender:
        approve_sender_id(admin, admin.sender)
    enable_webservices(admin, token=token, ip_list=LOCAL_IPS)
    return admin


def create_user(
    username: str,
    *,
    level: int = Level.USER,
    parent: str | None = None,
    password: str | None = None,
    credit=0,
    webservices: bool = True,
    token: str | None = None,
    name: str = "",
    email: str = "",
    mobile: str = "",
    timezone_: str = "",
) -> tuple[SandboxUser, str | None]:
    """An account as accountadd makes it, then (optionally) enabled for the API like an operator
    would in the web UI, with ``credit`` already recalculated into the cached figure."""
    account = create_account(
        status=str(int(level)),
        username=username,
        password=password or DEFAULT_PASSWORD,
        name=name or username.title(),
        email=email or f"{username}@example.org",
        mobile=mobile,
        parent=parent or "",
        timezone_=timezone_,
        sw=profiles.current(),
    )
    if parent and account.parent is None:  # accountadd drops parents it does not like
        account.parent = find_live(parent)
        account.save(update_fields=["parent"])
    if credit:
        set_credit(account, Decimal(str(credit)))
    if not webservices:
        return account, None
    return account, enable_webservices(account, token=token, ip_list=LOCAL_IPS)


def set_rate(prefix: str, rate) -> Rate:
    return Rate.objects.update_or_create(prefix=prefix, defaults={"rate": Decimal(str(rate))})[0]


def add_keyword(
    owner: SandboxUser,
    keyword: str,
    *,
    feature: str = "autoreply",
    scenarios: dict[str, str] | None = None,
) -> Keyword:
    kw, _ = Keyword.objects.get_or_create(
        keyword=keyword.upper(), defaults={"owner": owner, "feature": feature}
    )
    for param, reply in (scenarios or {}).items():
        AutoreplyScenario.objects.get_or_create(
            keyword=kw, param=param.upper(), defaults={"reply": reply}
        )
    return kw


def inject_incoming(
    *, sender: str, text: str, recvnum: str = "", smsc: str = "", now: datetime | None = None
):
    """An incoming SMS as `inject` queues it; the next tick routes it."""
    return inject(sender=sender, text=text, recvnum=recvnum, smsc=smsc, now=now or timezone.now())


# --- bulk history ------------------------------------------------------------------------------


def add_outgoing(
    account: SandboxUser,
    count: int,
    *,
    src: str = "1234",
    dst: str | None = None,
    msg: str = "bulk message {i}",
    status: int = 3,
    start: datetime | None = None,
    step_seconds: float = 1.0,
    batch: int = 50_000,
) -> int:
    """Insert ``count`` already-dispatched outgoing rows fast: one ``INSERT … SELECT`` over
    ``generate_series`` on PostgreSQL (the server builds the rows), big ``bulk_create`` batches
    elsewhere. Row i was dispatched ``i * step_seconds`` after ``start`` (default: ``count``
    steps ago), so the newest row is the last one."""
    sw = profiles.current()
    now = timezone.now()
    start = start or now - timedelta(seconds=count * step_seconds)
    queue = Queue.objects.create(
        code=new_queue_code(),
        user=account,
        state=Queue.State.FINISHED,
        created=start,
        scheduled=clock.fmt(clock.gmt0(start, sw)),
    )
    # the GMT+0 wall clock of `start` (see clock.py), as a naive timestamp
    gmt0_start = clock.gmt0(start, sw)
    if connection.vendor == "postgresql":
        _insert_series(
            account,
            queue,
            count,
            src=src,
            dst=dst,
            msg=msg,
            status=status,
            start=start,
            gmt0_start=gmt0_start,
            step_seconds=step_seconds,
        )
        return count

    def row(i: int) -> Outgoing:
        offset = timedelta(seconds=i * step_seconds)
        dt = clock.fmt(gmt0_start + offset)
        return Outgoing(
            user=account,
            queue=queue,
            src=src,
            dst=dst or f"62812{i % 10_000_000:07d}",
            msg=msg.format(i=i),
            status=status,
            dt=dt,
            update=dt if status else clock.ZERO,
            dispatched_at=start + offset,
            dlr_final=status not in (0, 1),
        )

    for first in range(0, count, batch):
        Outgoing.objects.bulk_create(
            [row(i) for i in range(first, min(count, first + batch))], batch_size=batch
        )
    return count


def _insert_series(
    account, queue, count, *, src, dst, msg, status, start, gmt0_start, step_seconds
) -> None:
    table = Outgoing._meta.db_table
    prefix, _, suffix = msg.partition("{i}")
    text = "%s || i::text || %s" if "{i}" in msg else "%s || %s"
    dt = "to_char(%s::timestamp + i * %s * interval '1 second', 'YYYY-MM-DD HH24:MI:SS')"
    sql = f"""
        INSERT INTO {table} (user_id, queue_id, src, dst, msg, footer, unicode, sms_type,
                             charge, billing, dt, "update", status, dispatched_at, deleted,
                             dlr_final)
        SELECT %s, %s, %s, COALESCE(%s, '62812' || lpad((i %% 10000000)::text, 7, '0')),
               {text}, '', 0, 'text', 0, '', {dt},
               CASE WHEN %s = 0 THEN %s ELSE {dt} END,
               %s, %s::timestamptz + i * %s * interval '1 second', false, %s
        FROM generate_series(0, %s - 1) AS i
    """  # noqa: S608 - the table name is ours; every value is a parameter
    params = [
        account.pk,
        queue.pk,
        src,
        dst,
        prefix,
        suffix,
        gmt0_start,
        step_seconds,
        status,
        clock.ZERO,
        gmt0_start,
        step_seconds,
        status,
        start,
        step_seconds,
        status not in (0, 1),
        count,
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
