"""Bulk upserts of feed rows into the local tables, and the daily counts they imply.

Every writer takes one batch of client records and costs a fixed number of queries whatever
its size: one read of the rows already stored (ids and statuses), one bulk upsert
(``INSERT … ON CONFLICT DO UPDATE`` on PostgreSQL and SQLite) and one upsert of the
:class:`~messaging.models.DailyStat` deltas. Rows that did not change are not written again,
so re-reading a window (the late-row sweep, the status refresh) costs reads, not writes.

Only :mod:`messaging.sync` calls these, inside its transactions and under its lock.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from django.db import connection, transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from bearsms_portal.bearsms import DeliveryStatus

from .models import (
    DailyStat,
    Feed,
    IncomingMessage,
    OutgoingMessage,
    SandboxMessage,
)

_STATUS_COLUMN = {
    DeliveryStatus.PENDING: "pending",
    DeliveryStatus.SENT: "accepted",
    DeliveryStatus.FAILED: "failed",
    DeliveryStatus.DELIVERED: "delivered",
}
_COUNT_COLUMNS = ("sent", "pending", "accepted", "delivered", "failed", "incoming")


def raw_dt(record) -> str:
    return str((getattr(record, "raw", None) or {}).get("dt") or "")[:19]


def _day(moment: datetime, zone=None) -> date:
    """The portal-local day of ``moment``; pass ``zone`` when calling it for many rows."""
    return moment.astimezone(zone or timezone.get_current_timezone()).date()


_OUTGOING_COLUMNS = (
    "account_id",
    "smslog_id",
    "src",
    "dst",
    "text",
    "status",
    "dispatched_at",
    "status_changed_at",
    "server_dt",
    "synced_at",
)
_OUTGOING_TYPES = (
    "bigint",
    "bigint",
    "text",
    "text",
    "text",
    "smallint",
    "timestamptz",
    "timestamptz",
    "text",
    "timestamptz",
)


def write_outgoing(account_id: int, records: Sequence, now: datetime) -> int:
    """Upsert ``ds`` records of one account; returns how many rows were inserted or changed.

    On PostgreSQL the batch is first inserted with ``ON CONFLICT DO NOTHING RETURNING``: new
    rows (all of them during a first sync) cost that one statement. Only the ids that were
    already stored are then read back and, where their status changed, updated.
    """
    if not records:
        return 0
    by_id = {int(r.smslog_id): r for r in records}
    zone = timezone.get_current_timezone()
    deltas: dict[date, Counter] = defaultdict(Counter)
    written = 0
    if connection.vendor == "postgresql":
        inserted = _insert_new_outgoing([_outgoing_row(account_id, r, now) for r in by_id.values()])
        for smslog_id in inserted:
            record = by_id.pop(smslog_id)
            day = _day(record.dt or now, zone)
            deltas[day]["sent"] += 1
            deltas[day][_STATUS_COLUMN[int(record.status)]] += 1
        written = len(inserted)
        if not by_id:
            bump_daily_stats(account_id, deltas)
            return written
    existing = _existing_statuses(account_id, list(by_id))
    rows = []
    for smslog_id, record in by_id.items():
        status = int(record.status)
        old = existing.get(smslog_id)
        if old == status:
            continue
        day = _day(record.dt or now, zone)
        if old is None:
            deltas[day]["sent"] += 1
        else:
            deltas[day][_STATUS_COLUMN[old]] -= 1
        deltas[day][_STATUS_COLUMN[status]] += 1
        rows.append(_outgoing_row(account_id, record, now))
    if rows:
        _upsert_outgoing(rows)
    bump_daily_stats(account_id, deltas)
    return written + len(rows)


def _outgoing_row(account_id: int, record, now: datetime) -> tuple:
    return (
        account_id,
        int(record.smslog_id),
        record.src[:100],
        record.dst[:40],
        record.msg,
        int(record.status),
        record.dt or now,
        record.update,
        raw_dt(record),
        now,
    )


def _execute_arrays(sql: str, params: list, *, fetch: bool = False) -> list[tuple]:
    """PostgreSQL: run ``sql`` with server-side, binary parameters on Django's connection (same
    transaction). Django's client-side binding would quote every array element in Python, which
    costs more than the insert itself at sync volumes."""
    import psycopg

    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, binary=True)
        return cursor.fetchall() if fetch else []


def _insert_new_outgoing(rows: list[tuple]) -> list[int]:
    """PostgreSQL: insert the rows not stored yet; their smslog_ids."""
    table = connection.ops.quote_name(OutgoingMessage._meta.db_table)
    columns = ", ".join(_OUTGOING_COLUMNS)
    arrays = ", ".join(f"%b::{kind}[]" for kind in _OUTGOING_TYPES)
    sql = (
        f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays}) "  # noqa: S608
        "ON CONFLICT (account_id, smslog_id) DO NOTHING RETURNING smslog_id"
    )
    columns = [list(column) for column in zip(*rows, strict=True)]
    return [row[0] for row in _execute_arrays(sql, columns, fetch=True)]


def _existing_statuses(account_id: int, ids: list[int]) -> dict[int, int]:
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(OutgoingMessage._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT smslog_id, status FROM {table} "  # noqa: S608 (model's table name)
                "WHERE account_id = %s AND smslog_id = ANY(%s::bigint[])",
                [account_id, ids],
            )
            return dict(cursor.fetchall())
    return dict(
        OutgoingMessage.objects.filter(account_id=account_id, smslog_id__in=ids).values_list(
            "smslog_id", "status"
        )
    )


def _upsert_outgoing(rows: list[tuple]) -> None:
    """One ``INSERT … ON CONFLICT DO UPDATE``. On PostgreSQL the batch goes as one array per
    column through ``unnest`` (ten parameters whatever the batch size, no model instances)."""
    if connection.vendor != "postgresql":
        OutgoingMessage.objects.bulk_create(
            [OutgoingMessage(**dict(zip(_OUTGOING_COLUMNS, row, strict=True))) for row in rows],
            update_conflicts=True,
            unique_fields=["account", "smslog_id"],
            update_fields=[c for c in _OUTGOING_COLUMNS if c not in ("account_id", "smslog_id")],
        )
        return
    table = connection.ops.quote_name(OutgoingMessage._meta.db_table)
    columns = ", ".join(_OUTGOING_COLUMNS)
    arrays = ", ".join(f"%b::{kind}[]" for kind in _OUTGOING_TYPES)
    updates = ", ".join(f"{c} = excluded.{c}" for c in _OUTGOING_COLUMNS[2:])
    sql = (
        f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays}) "  # noqa: S608
        f"ON CONFLICT (account_id, smslog_id) DO UPDATE SET {updates}"
    )
    _execute_arrays(sql, [list(column) for column in zip(*rows, strict=True)])


def write_incoming(account_id: int, feed: str, records: Sequence, now: datetime) -> int:
    """Insert ``in``/``ix`` records of one account that are not stored yet (they never change)."""
    if not records:
        return 0
    by_id = {int(r.id): r for r in records}
    known = set(
        IncomingMessage.objects.filter(
            account_id=account_id, feed=feed, server_id__in=list(by_id)
        ).values_list("server_id", flat=True)
    )
    rows = []
    deltas: dict[date, Counter] = defaultdict(Counter)
    for server_id, record in by_id.items():
        if server_id in known:
            continue
        received_at = record.dt or now
        if feed == Feed.INCOMING:  # an inbox row is a copy of an `in` row, or an @user message
            deltas[_day(received_at)]["incoming"] += 1
        rows.append(
            IncomingMessage(
                account_id=account_id,
                feed=feed,
                server_id=server_id,
                src=record.src[:100],
                dst=record.dst[:40],
                keyword=getattr(record, "kwd", "")[:100],
                text=record.msg,
                received_at=received_at,
                server_dt=raw_dt(record),
                synced_at=now,
            )
        )
    if rows:
        IncomingMessage.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["account", "feed", "server_id"],
            update_fields=["src", "dst", "keyword", "text", "received_at", "server_dt"],
        )
        bump_daily_stats(account_id, deltas)
    return len(rows)


def write_sandbox(records: Sequence, now: datetime) -> int:
    """Insert ``sx`` records not stored yet."""
    if not records:
        return 0
    by_id = {int(r.id): r for r in records}
    known = set(
        SandboxMessage.objects.filter(server_id__in=list(by_id)).values_list("server_id", flat=True)
    )
    rows = [
        SandboxMessage(
            server_id=server_id,
            src=r.src[:100],
            dst=r.dst[:40],
            text=r.msg,
            received_at=r.dt or now,
            server_dt=raw_dt(r),
            synced_at=now,
        )
        for server_id, r in by_id.items()
        if server_id not in known
    ]
    if rows:
        SandboxMessage.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["server_id"],
            update_fields=["src", "dst", "text", "received_at", "server_dt"],
        )
    return len(rows)


def write(feed: str, account_id: int | None, records: Sequence, now: datetime) -> int:
    if feed == Feed.OUTGOING:
        return write_outgoing(account_id, records, now)
    if feed == Feed.SANDBOX:
        return write_sandbox(records, now)
    return write_incoming(account_id, feed, records, now)


def bump_daily_stats(account_id: int, deltas: dict[date, Counter]) -> None:
    """Add ``deltas`` to the account's daily rows in one ``INSERT … ON CONFLICT`` statement."""
    values = [
        (account_id, day.isoformat(), *(int(counts.get(col, 0)) for col in _COUNT_COLUMNS))
        for day, counts in deltas.items()
        if any(counts.values())
    ]
    if not values:
        return
    table = connection.ops.quote_name(DailyStat._meta.db_table)
    cols = ", ".join(_COUNT_COLUMNS)
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in _COUNT_COLUMNS)
    row = "(" + ", ".join(["%s"] * (2 + len(_COUNT_COLUMNS))) + ")"
    # identifiers come from the model, values go as parameters
    sql = (
        f"INSERT INTO {table} (account_id, day, {cols}) "  # noqa: S608
        f"VALUES {', '.join([row] * len(values))} "
        f"ON CONFLICT (account_id, day) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [v for value in values for v in value])


@transaction.atomic  # the dashboard never sees the rows half rebuilt
def rebuild_daily_stats(account_ids: Iterable[int] | None = None) -> None:
    """Recompute the daily rows from the message tables (repair tool, ``manage.py
    rebuild_daily_stats``; counts every row)."""

    outgoing = OutgoingMessage.objects.all()
    incoming = IncomingMessage.objects.filter(feed=Feed.INCOMING)
    stats = DailyStat.objects.all()
    if account_ids is not None:
        ids = list(account_ids)
        outgoing, incoming, stats = (
            qs.filter(account_id__in=ids) for qs in (outgoing, incoming, stats)
        )
    stats.delete()
    deltas: dict[tuple[int, date], Counter] = defaultdict(Counter)
    for row in (
        outgoing.annotate(day=TruncDate("dispatched_at"))
        .values("account_id", "day")
        .annotate(
            sent=Count("id"),
            **{col: Count("id", filter=Q(status=status)) for status, col in _STATUS_COLUMN.items()},
        )
    ):
        deltas[(row["account_id"], row["day"])].update(
            {col: row[col] for col in ("sent", *_STATUS_COLUMN.values())}
        )
    for row in (
        incoming.annotate(day=TruncDate("received_at"))
        .values("account_id", "day")
        .annotate(n=Count("id"))
    ):
        deltas[(row["account_id"], row["day"])]["incoming"] += row["n"]
    by_account: dict[int, dict[date, Counter]] = defaultdict(dict)
    for (account_id, day), counts in deltas.items():
        by_account[account_id][day] = counts
    for account_id, days in by_account.items():
        bump_daily_stats(account_id, days)
