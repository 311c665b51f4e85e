"""The sync: gap-free local copies of the ``ds``, ``in``, ``ix`` and ``sx`` feeds.

A **pull** of one :class:`~messaging.models.SyncCursor` does up to three things, under the
cursor's lease (:mod:`messaging.locks`; every batch is written in a transaction that first
checks the lease is still this pull's, so a pull that lost it never writes again):

1. **New rows** (every pull). The client's trap-safe iterator of the feed
   (``Client.iter_delivery_status`` and its siblings; the algorithm is
   :func:`bearsms_portal.bearsms.paging.scan_after`) reads every row with an id above
   ``last_id``. Its ``on_answer`` hook passes each answer to this thread as soon as it arrives,
   so rows are upserted while the next request is in flight (fetching and writing overlap).
   The cursor moves to the pass's highest id in the same transaction as the last rows of the
   pass. A pull killed half-way leaves the rows it wrote (upserts: re-writing them later
   changes nothing) and the old cursor, so the next pull repeats the pass: never a gap, never
   a duplicate.
   With nothing new this is one request and two queries (read the cursor, update it).
2. **Late-row sweep** (every ``SYNC_SWEEP_INTERVAL``). ``last`` cannot see a row that appears
   with an id *below* the cursor — a scheduled message, or a backlog released by a daemon that
   was stopped, keeps its early ``smslog_id`` but shows up in ``ds`` only when dispatched, with
   the dispatch time as ``dt`` (§4.2, §5.2 #31, §5.3 of the reference). Such rows are found by
   time instead: the server sorts every feed newest-first, so asking for the newest ``K`` rows
   (no ``last``) returns everything dispatched since the watermark ``sweep_from`` as long as
   the oldest row of the answer is older than the watermark; when it is not, the minutes in
   between are read one ``dt=YYYY-MM-DD hh:mm`` window at a time. The watermark is kept in the
   server's own time frame (a raw ``dt`` string), so no clock or timezone guess is involved,
   and moves to the newest time seen minus ``SYNC_SWEEP_MARGIN``.
3. **Delivery status refresh** (``ds`` only, every ``SYNC_REFRESH_INTERVAL``). Rows that are
   not final (pending/sent) and younger than ``SYNC_STATUS_MAX_AGE`` are re-read — found
   through a partial index, grouped by their dispatch minute; a minute with a few of them is
   asked by ``smslog_id``, a busier one by its ``dt`` window. Status changes on old rows are
   invisible to ``last``, so this is how "pending → delivered" arrives.

Errors are recorded on the cursor (health) and push its next pull out exponentially.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.db.models.functions import Substr
from django.utils import timezone

from accounts.clients import admin_client, client_for
from accounts.models import BearSMSAccount
from bearsms_portal.bearsms import AuthParamError, BearSMSError

from . import store
from .locks import Lease, LockLost, lock_for_cursor
from .models import NON_FINAL_STATUSES, Feed, OutgoingMessage, SyncCursor

logger = logging.getLogger(__name__)

USER_FEEDS = (Feed.OUTGOING, Feed.INCOMING, Feed.INBOX)
_METHODS = {
    Feed.OUTGOING: "delivery_status",
    Feed.INCOMING: "incoming",
    Feed.INBOX: "inbox",
    Feed.SANDBOX: "sandbox",
}
_DT_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass
class PullResult:
    cursor: str
    skipped: bool = False
    lost: bool = False
    new_rows: int = 0
    written: int = 0
    requests: int = 0
    last_id: int = 0
    swept: int | None = None
    refreshed: int | None = None
    error: str = ""
    ms: float = 0.0
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        if self.skipped:
            return f"{self.cursor}: skipped (another pull of this feed is running)"
        if self.lost:
            return (
                f"{self.cursor}: stopped after {self.written} rows written"
                " (its lease expired and another pull took the feed over)"
            )
        if self.error:
            return f"{self.cursor}: FAILED {self.error}"
        parts = [
            f"{self.cursor}: {self.new_rows} new rows, {self.written} written,"
            f" cursor at {self.last_id}, {self.requests} requests"
        ]
        if self.swept is not None:
            parts.append(f"late-row sweep wrote {self.swept}")
        if self.refreshed is not None:
            parts.append(f"status refresh wrote {self.refreshed}")
        parts.append(f"{self.ms:.0f} ms")
        return ", ".join(parts)


# --- cursors -----------------------------------------------------------------------------------


def syncable_accounts():
    """Accounts whose traffic is pulled: linked (the portal holds a token) and not banned."""
    return BearSMSAccount.objects.exclude(token_encrypted="").exclude(
        status=BearSMSAccount.Status.BANNED
    )


def ensure_cursors() -> None:
    """Create the missing cursors: (account, ds/in/ix) per syncable account, and the admin sx."""
    existing = set(SyncCursor.objects.values_list("account_id", "feed"))
    missing = [
        SyncCursor(account_id=account_id, feed=feed)
        for account_id in syncable_accounts().values_list("pk", flat=True)
        for feed in USER_FEEDS
        if (account_id, feed) not in existing
    ]
    if settings.BEARSMS_ADMIN_TOKEN and (None, Feed.SANDBOX) not in existing:
        missing.append(SyncCursor(account=None, feed=Feed.SANDBOX))
    if missing:
        SyncCursor.objects.bulk_create(missing, ignore_conflicts=True)


def client_for_cursor(cursor: SyncCursor):
    """``sx`` answers only for admins, so it is read with the admin credentials."""
    if cursor.feed == Feed.SANDBOX:
        return admin_client()
    return client_for(cursor.account)


# --- scheduling --------------------------------------------------------------------------------


def due_cursor_ids(now: datetime | None = None) -> list[int]:
    """Cursors whose next pull time has come (the interval after a success, the backoff after
    an error), of accounts that are still synced, and the admin ``sx`` cursor."""
    return list(
        SyncCursor.objects.filter(
            Q(next_pull_at__isnull=True) | Q(next_pull_at__lte=now or timezone.now()),
            Q(account__isnull=True) | Q(account__in=syncable_accounts()),
        ).values_list("pk", flat=True)
    )


def _queued_key(cursor_id: int) -> str:
    return f"messaging:queued:{connection.settings_dict['NAME']}:{cursor_id}"


def claim_for_queue(cursor_id: int) -> bool:
    """True at most once per pull to queue: the cursor is not being pulled now (it sets its own
    next time when it ends) and no pull of it is already queued (until :func:`pull_queued`
    starts it, or ``SYNC_LOCK_TTL`` passes if it was lost)."""
    if lock_for_cursor(cursor_id).is_locked():
        return False
    return cache.add(_queued_key(cursor_id), 1, timeout=max(60, settings.SYNC_LOCK_TTL))


def cursors_to_queue() -> list[int]:
    """The cursors to pull now, each claimed once: what the beat task enqueues."""
    ensure_cursors()
    return [cursor_id for cursor_id in due_cursor_ids() if claim_for_queue(cursor_id)]


def pull_queued(cursor_id: int) -> str:
    """The queued pull of ``cursor_id``: a short description of what it did. Errors are
    recorded on the cursor (health, backoff), not raised: there is nothing to retry."""
    cache.delete(_queued_key(cursor_id))
    cursor = SyncCursor.objects.select_related("account").filter(pk=cursor_id).first()
    if cursor is None:
        return "gone"
    try:
        result = pull(cursor=cursor)
    except BearSMSError:  # the server's answer: pull() logged it and the cursor shows it
        return "failed"
    except Exception:
        logger.info("pull of %s failed; see the sync health page", cursor, exc_info=True)
        return "failed"
    return str(result)


# --- the pull ----------------------------------------------------------------------------------


def pull(
    *, cursor: SyncCursor, sweep: bool | None = None, refresh: bool | None = None, client=None
) -> PullResult:
    """One pull of ``cursor`` now (see the module docstring). ``sweep``/``refresh``: force
    (True), skip (False) or only when due (None). Returns at once if another pull holds the
    cursor's lock. Errors are recorded on the cursor and re-raised."""
    result = PullResult(cursor=str(cursor))
    lock = lock_for_cursor(cursor.pk)
    if not lock.acquire():
        result.skipped = True
        return result
    started = time.perf_counter()
    now = timezone.now()
    try:
        client = client or client_for_cursor(cursor)
        _pull_new(cursor, client, lock, now, result)
        if sweep or (sweep is None and _due(cursor.swept_at, settings.SYNC_SWEEP_INTERVAL, now)):
            result.swept = _sweep(cursor, client, now, result, lock)
            cursor.swept_at = now
        if cursor.feed == Feed.OUTGOING and (
            refresh
            or (refresh is None and _due(cursor.refreshed_at, settings.SYNC_REFRESH_INTERVAL, now))
        ):
            result.refreshed = _refresh_statuses(cursor, client, now, result, lock)
            cursor.refreshed_at = now
        result.ms = (time.perf_counter() - started) * 1000
        _record_success(cursor, lock, now, result)
    except LockLost:
        # Not a failure of the feed: the pull that took over carries on from the cursor.
        result.lost = True
        result.ms = (time.perf_counter() - started) * 1000
        logger.warning("sync %s lost its lease after %.0f ms", cursor, result.ms)
    except Exception as exc:
        result.error = describe_failure(exc)
        result.ms = (time.perf_counter() - started) * 1000
        _record_failure(cursor, now, exc)
        raise
    finally:
        lock.release()
    return result


@contextmanager
def _under_lease(lock: Lease):
    """A transaction that commits only while the lease is this pull's (LockLost otherwise)."""
    with transaction.atomic():
        lock.renew(force=True)
        yield


def _next_item(fetcher, lock: Lease):
    """The fetcher's next item; the lease is kept alive meanwhile (the server may be slow)."""
    while True:
        try:
            return fetcher.items.get(timeout=lock.ttl / 4)
        except queue.Empty:
            lock.renew()


def _due(last: datetime | None, interval: int, now: datetime) -> bool:
    return last is None or now - last >= timedelta(seconds=interval)


def _list_method(client, feed: str) -> Callable[..., Sequence]:
    return getattr(client, _METHODS[feed])


class _Fetcher(threading.Thread):
    """Runs the client's scan in a thread (HTTP only, no database) and hands over, in order,
    every answer as soon as it arrives and a checkpoint whenever the scan has finished a pass:
    a checkpoint ``(id, n)`` means every row with an id up to ``id`` was in an answer before."""

    DONE = ("done",)

    def __init__(self, walk: Callable[..., Iterator], after: int, page_size: int):
        super().__init__(name="sync-fetch", daemon=True)
        self.walk = walk  # the client's trap-safe iterator of the feed (``iter_…``)
        self.after = after
        self.page_size = page_size
        self.items: queue.Queue = queue.Queue(maxsize=8)
        self.first_page: Sequence = ()
        self.requests = 0
        self.error: BaseException | None = None
        self._halt = threading.Event()
        self._yielded = 0
        self._last_yielded = after
        self._checkpointed = 0

    def _checkpoint(self) -> None:
        if self._yielded > self._checkpointed:
            self.items.put(("checkpoint", self._last_yielded, self._yielded - self._checkpointed))
            self._checkpointed = self._yielded

    def _answer(self, rows: Sequence) -> None:
        if self._halt.is_set():
            raise _Stopped
        self._checkpoint()  # an answer after yields: the previous pass is complete
        if not self.requests:
            self.first_page = rows
        self.requests += 1
        if rows:
            self.items.put(("rows", rows))

    def run(self) -> None:
        try:
            for row in self.walk(self.after, page_size=self.page_size, on_answer=self._answer):
                self._yielded += 1
                self._last_yielded = row.id
            self._checkpoint()
        except BaseException as exc:  # handed to the writing thread, which re-raises it
            self.error = exc
        finally:
            self.items.put(self.DONE)

    def stop(self) -> None:
        self._halt.set()
        while True:  # unblock a put() waiting for room
            try:
                self.items.get_nowait()
            except queue.Empty:
                break


class _Stopped(Exception):
    pass


def _pull_new(cursor: SyncCursor, client, lock, now: datetime, result: PullResult) -> None:
    """Every row above ``last_id``, written while it is fetched; the cursor moves at each
    checkpoint, in the transaction that writes the last rows before it."""
    walk = getattr(client, "iter_" + _METHODS[cursor.feed])
    fetcher = _Fetcher(walk, cursor.last_id, settings.SYNC_PAGE_SIZE)
    fetcher.start()
    seen: set[int] = set()
    pending: list = []
    result.last_id = cursor.last_id
    try:
        while True:
            item = _next_item(fetcher, lock)
            if item is _Fetcher.DONE:
                break
            if item[0] == "checkpoint":
                _, last_id, count = item
                _write_and_move(
                    cursor, lock, pending, last_id, count, fetcher.first_page, now, result
                )
                pending = []
                continue
            for record in item[1]:
                key = record.id
                if key not in seen:
                    seen.add(key)
                    pending.append(record)
            # Write while the next answer is on its way; a small batch only when idle.
            if len(pending) >= settings.SYNC_BATCH_SIZE or fetcher.items.empty():
                with _under_lease(lock):
                    result.written += store.write(cursor.feed, cursor.account_id, pending, now)
                pending = []
        if pending:  # rows above the last checkpoint (arrived during the scan): keep them
            with _under_lease(lock):
                result.written += store.write(cursor.feed, cursor.account_id, pending, now)
    finally:
        if fetcher.is_alive():
            fetcher.stop()
        fetcher.join()
        result.requests += fetcher.requests
    if fetcher.error is not None:
        raise fetcher.error


def _write_and_move(
    cursor: SyncCursor,
    lock: Lease,
    pending: list,
    last_id: int,
    count: int,
    first_page: Sequence,
    now: datetime,
    result: PullResult,
) -> None:
    if not cursor.sweep_from and first_page:
        # Start the late-row watermark just before the newest row the server had when the
        # first pass began: anything that shows up later, whatever its id, is that recent.
        newest = max(store.raw_dt(r) for r in first_page)
        cursor.sweep_from = _shift(newest, -settings.SYNC_SWEEP_MARGIN)
    newest_at = max((r.dt for r in pending if r.dt), default=None)
    with _under_lease(lock):
        result.written += store.write(cursor.feed, cursor.account_id, pending, now)
        updates = {
            "last_id": last_id,
            "rows_pulled": F("rows_pulled") + count,
            "sweep_from": cursor.sweep_from,
        }
        if newest_at and (cursor.newest_at is None or newest_at > cursor.newest_at):
            updates["newest_at"] = cursor.newest_at = newest_at
        SyncCursor.objects.filter(pk=cursor.pk).update(**updates)
    cursor.last_id = result.last_id = last_id
    cursor.rows_pulled += count
    result.new_rows += count


# --- late-row sweep ----------------------------------------------------------------------------


def _shift(raw_dt: str, seconds: int) -> str:
    try:
        moment = datetime.strptime(raw_dt, _DT_FORMAT)
    except ValueError:
        return ""
    return (moment + timedelta(seconds=seconds)).strftime(_DT_FORMAT)


def _fetch_all(list_rows, result: PullResult, lock: Lease, **params) -> list:
    """One window in full: ``c`` doubles until the answer is shorter than asked."""
    c = settings.SYNC_PAGE_SIZE
    while True:
        lock.renew()
        rows = list_rows(c=c, **params)
        result.requests += 1
        if len(rows) < c:
            return list(rows)
        c *= 2


def _windows(start: str, end: str) -> list[str]:
    """``dt`` prefixes covering ``start``..``end`` (raw dt strings): minutes, or hours when the
    span is longer than three hours (after a worker outage)."""
    first = datetime.strptime(start[:16], "%Y-%m-%d %H:%M")
    last = datetime.strptime(end[:16], "%Y-%m-%d %H:%M")
    if last - first > timedelta(hours=3):
        layout, step = "%Y-%m-%d %H", timedelta(hours=1)
        first = first.replace(minute=0)
    else:
        layout, step = "%Y-%m-%d %H:%M", timedelta(minutes=1)
    out = []
    while first <= last:
        out.append(first.strftime(layout))
        first += step
    return out


def _sweep(cursor: SyncCursor, client, now: datetime, result: PullResult, lock) -> int:
    """Re-read everything the server timed at or after ``sweep_from``, whatever its id."""
    list_rows = _list_method(client, cursor.feed)
    k = settings.SYNC_PAGE_SIZE
    page = list(list_rows(c=k))
    result.requests += 1
    if not page:
        return 0
    newest = max(store.raw_dt(r) for r in page)
    floor = cursor.sweep_from or _shift(newest, -settings.SYNC_SWEEP_MARGIN)
    oldest = min(store.raw_dt(r) for r in page)
    if len(page) < k or oldest < floor or not floor:
        rows = [r for r in page if store.raw_dt(r) >= floor]
    else:
        # More than K rows since the watermark: read the minutes in between one by one.
        found = {r.id: r for r in page}
        for window in _windows(floor, oldest):
            for record in _fetch_all(list_rows, result, lock, dt=window):
                found.setdefault(record.id, record)
        rows = [r for r in found.values() if store.raw_dt(r) >= floor]
    written = 0
    batch = settings.SYNC_BATCH_SIZE
    for start in range(0, len(rows), batch):
        with _under_lease(lock):
            written += store.write(cursor.feed, cursor.account_id, rows[start : start + batch], now)
    cursor.sweep_from = max(floor, _shift(newest, -settings.SYNC_SWEEP_MARGIN))
    return written


# --- delivery status refresh -------------------------------------------------------------------

#: a dispatch minute with at most this many non-final rows is asked by smslog_id, row by row
REFRESH_BY_ID_MAX = 3
#: at most this many dispatch minutes are re-read per refresh (rotating when there are more)
REFRESH_MAX_WINDOWS = 200


def _refresh_statuses(cursor: SyncCursor, client, now: datetime, result: PullResult, lock) -> int:
    cutoff = now - timedelta(seconds=settings.SYNC_STATUS_MAX_AGE)
    open_rows = OutgoingMessage.objects.filter(
        account_id=cursor.account_id, status__in=NON_FINAL_STATUSES, dispatched_at__gte=cutoff
    )
    minutes = list(
        open_rows.annotate(minute=Substr("server_dt", 1, 16))
        .values("minute")
        .annotate(n=Count("id"))
        .order_by("minute")
        .values_list("minute", "n")
    )
    if len(minutes) > REFRESH_MAX_WINDOWS:
        # Many open minutes (old messages stuck at pending): a different slice each cycle.
        cycle = int(now.timestamp() // max(1, settings.SYNC_REFRESH_INTERVAL))
        start = cycle * REFRESH_MAX_WINDOWS % len(minutes)
        minutes = (minutes + minutes)[start : start + REFRESH_MAX_WINDOWS]
    written = 0
    for minute, n in minutes:
        if n <= REFRESH_BY_ID_MAX or not minute:
            ids = open_rows.filter(server_dt__startswith=minute).values_list("smslog_id", flat=True)
            rows = []
            for smslog_id in ids:
                lock.renew()
                rows.extend(client.delivery_status(smslog_id=smslog_id))
                result.requests += 1
        else:
            rows = _fetch_all(client.delivery_status, result, lock, dt=minute)
        with _under_lease(lock):
            written += store.write_outgoing(cursor.account_id, rows, now)
    return written


# --- health ------------------------------------------------------------------------------------


def describe_failure(exc: BaseException) -> str:
    """A short, secret-free description (the client never puts tokens in its errors)."""
    if isinstance(exc, BearSMSError):
        code = f" {exc.code}" if getattr(exc, "code", None) else ""
        return f"{type(exc).__name__}{code}: {str(exc)[:200]}"
    return f"{type(exc).__name__}: {str(exc)[:200]}"


def backoff_seconds(error_count: int, *, auth: bool = False) -> float:
    """Exponential backoff with jitter after ``error_count`` consecutive failures."""
    if auth:  # a bad token must not hammer the server (it blacklists an IP after 10 failures)
        return float(settings.SYNC_BACKOFF_MAX)
    base = settings.SYNC_INTERVAL * (2 ** min(error_count, 16))
    return min(settings.SYNC_BACKOFF_MAX, base) * random.uniform(0.8, 1.2)


def _record_success(cursor: SyncCursor, lock: Lease, now: datetime, result: PullResult) -> None:
    """The outcome on the cursor, written as the lease is given back (if it is still ours)."""
    fields = {
        "last_attempt_at": now,
        "last_success_at": now,
        "last_rows": result.new_rows,
        "error_count": 0,
        "next_pull_at": now + timedelta(seconds=settings.SYNC_INTERVAL),
        "sweep_from": cursor.sweep_from,
        "swept_at": cursor.swept_at,
        "refreshed_at": cursor.refreshed_at,
    }
    lock.finish(**fields)
    for name, value in fields.items():
        setattr(cursor, name, value)


def _record_failure(cursor: SyncCursor, now: datetime, exc: BaseException) -> None:
    count = cursor.error_count + 1
    delay = backoff_seconds(count, auth=isinstance(exc, AuthParamError))
    retry_at = getattr(exc, "retry_at", None)
    if retry_at is not None:  # held back by the auth guard: pull when its probe is due
        delay = max(float(settings.SYNC_INTERVAL), retry_at - time.time())
    fields = {
        "last_attempt_at": now,
        "last_error": describe_failure(exc)[:300],
        "last_error_at": now,
        "error_count": count,
        "next_pull_at": now + timedelta(seconds=delay),
    }
    try:
        SyncCursor.objects.filter(pk=cursor.pk).update(**fields)
    except Exception:  # the database may be what failed; the error is logged below anyway
        logger.exception("could not record the sync failure of %s", cursor)
    for name, value in fields.items():
        setattr(cursor, name, value)
    logger.warning("sync %s failed (%s); next try in %.0f s", cursor, fields["last_error"], delay)


def lag_seconds(cursor: SyncCursor, now: datetime | None = None) -> float | None:
    """Seconds since the last successful pull (None: never succeeded)."""
    if cursor.last_success_at is None:
        return None
    return ((now or timezone.now()) - cursor.last_success_at).total_seconds()
