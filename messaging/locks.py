"""One pull per sync cursor at a time, across every worker process and machine.

A pull holds a **lease** on its cursor: taken without waiting (a pull that finds it taken
returns at once — pulls never queue up behind a slow one), valid for ``SYNC_LOCK_TTL`` seconds
after its last renewal, and checked by the store that keeps it, never by the holder alone:

- :class:`RedisLease` when ``REDIS_URL`` is configured: redis-py's ``Lock`` (``SET NX PX`` to
  take it; Lua scripts inside Redis compare the holder's token before they extend or delete).
- :class:`DatabaseLease` otherwise (the embedded default, SQLite or PostgreSQL without Redis):
  the lease is two columns (``lock_token``, ``locked_until``) of the cursor's own row, or of a
  :class:`~messaging.models.NamedLease` row for other locks (:func:`named_lock`). Taking it
  selects the row ``FOR UPDATE SKIP LOCKED`` when it is free or expired and writes our token
  with an ``UPDATE`` conditional on the same state; renewing and releasing are ``UPDATE``\\ s
  conditional on our token — one statement each, atomic on every database.

The pull renews the lease while it waits for the server and before every write — on the
database lease inside the write's own transaction, so a batch is written only by the holder —
and stops at once with :class:`LockLost` when another pull took an expired lease over: a pull
that lost its lease never writes again.

A lease whose holder died (SIGKILL, OOM) is taken over at once when the holder was a process
on this host that no longer exists (the token names host and pid), otherwise when it expires.
The take-over swaps the dead holder's token for ours in one step, so two pulls racing for the
same dead lease cannot both win.

The database lease's expiry times come from the clocks of the portal's hosts (Redis keeps its
own): hosts sharing one database must keep their clocks in step (NTP), much closer than the TTL.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from contextlib import nullcontext, suppress
from datetime import timedelta
from functools import cache

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

_HOST = socket.gethostname()


class LockLost(Exception):
    """The lease expired and another pull took it over: stop without writing."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def orphaned(holder: str) -> bool:
    """True if ``holder`` (a lease token) names a process on this host that no longer runs."""
    host, _, rest = str(holder).partition(":")
    pid = rest.partition(":")[0]
    return host == _HOST and pid.isdigit() and not _alive(int(pid))


class Lease:
    """What both stores share: the token, throttled renewal, the context manager."""

    def __init__(self, ttl: float | None = None, *, record=None):
        self.ttl = ttl or settings.SYNC_LOCK_TTL
        self.record = record  # the rows finish() writes (a cursor's), as a queryset factory
        self.token = f"{_HOST}:{os.getpid()}:{uuid.uuid4().hex}"
        self.held = False
        self._renewed = 0.0

    # --- what a store implements ------------------------------------------------------------

    def _take(self) -> bool:
        raise NotImplementedError

    def _take_over(self, holder: str) -> bool:
        raise NotImplementedError

    def _extend(self) -> bool:
        raise NotImplementedError

    def _give_back(self) -> None:
        raise NotImplementedError

    def holder(self) -> str | None:
        """The token of the current, unexpired holder (None: free)."""
        raise NotImplementedError

    # --- the interface ----------------------------------------------------------------------

    def acquire(self) -> bool:
        """Take the lease now if it is free, expired, or held by a dead local process."""
        taken = self._take()
        if not taken:
            holder = self.holder()
            taken = bool(holder) and orphaned(holder) and self._take_over(holder)
        if taken:
            self.held = True
            self._renewed = time.monotonic()
        return taken

    def renew(self, *, force: bool = False) -> None:
        """Check that the lease is still ours and push its expiry out; raise :class:`LockLost`
        if it is not. Cheap enough for every batch: without ``force`` the store is asked only
        once a third of the TTL has passed (call it with ``force`` inside a write's transaction
        to make the write conditional on the lease)."""
        if not self.held:
            raise LockLost("the lease is not held")
        if not force and time.monotonic() - self._renewed < self.ttl / 3:
            return
        if not self._extend():
            self.held = False
            raise LockLost("the lease expired and was taken over")
        self._renewed = time.monotonic()

    def release(self) -> None:
        if self.held:
            self._give_back()
        self.held = False

    def finish(self, **fields) -> None:
        """Write ``fields`` on the cursor (the pull's outcome) and give the lease back — only
        while it is still ours (:class:`LockLost` otherwise)."""
        self.renew(force=True)
        self.record().update(**fields)
        self.release()

    def is_locked(self) -> bool:
        return self.holder() is not None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


# --- Redis -------------------------------------------------------------------------------------


@cache
def _redis():
    import redis

    return redis.Redis.from_url(settings.REDIS_URL)


#: Swap a dead holder's token for ours, only if it is still the dead holder's.
_TAKE_OVER = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3])
    return 1
end
return 0
"""


class RedisLease(Lease):
    def __init__(self, name: str, ttl: float | None = None, *, record=None):
        super().__init__(ttl, record=record)
        # The database name keeps portals (and test runs) that share one Redis apart.
        self.key = f"messaging:lock:{connection.settings_dict['NAME']}:{name}"
        self._lock = _redis().lock(self.key, timeout=self.ttl, blocking=False, thread_local=False)

    def _take(self) -> bool:
        return self._lock.acquire(token=self.token)

    def _take_over(self, holder: str) -> bool:
        script = _redis().register_script(_TAKE_OVER)
        if not script(keys=[self.key], args=[holder, self.token, int(self.ttl * 1000)]):
            return False
        self._lock.local.token = self.token.encode()
        return True

    def _extend(self) -> bool:
        from redis.exceptions import LockError

        try:
            return self._lock.reacquire()
        except LockError:  # LockNotOwnedError: expired, and perhaps taken by another pull
            return False

    def _give_back(self) -> None:
        from redis.exceptions import LockError

        with suppress(LockError):  # expired meanwhile: nothing of ours to delete
            self._lock.release()

    def holder(self) -> str | None:
        value = _redis().get(self.key)
        return value.decode() if value is not None else None


# --- the database ------------------------------------------------------------------------------


def _cursor_rows(cursor_id: int):
    from .models import SyncCursor

    return SyncCursor.objects.filter(pk=cursor_id).order_by()  # no join for the ordering


class DatabaseLease(Lease):
    """The lease on one row's ``lock_token`` and ``locked_until`` (``rows``: a queryset factory
    of that row; ``create``: makes the row if it may be missing)."""

    def __init__(self, rows, ttl: float | None = None, *, create=None, record=None):
        super().__init__(ttl, record=record)
        self._rows = rows
        self._create = create

    def _until(self):
        return timezone.now() + timedelta(seconds=self.ttl)

    def _take(self) -> bool:
        """One statement: ``UPDATE … WHERE pk IN (SELECT … FOR UPDATE SKIP LOCKED) AND free``.
        SKIP LOCKED: a row its holder is writing right now is busy, never waited for. The
        outer condition repeats the inner one, so this stays atomic where FOR UPDATE is a
        no-op (SQLite, whose writes are serialised anyway)."""
        if self._create is not None:
            self._create()
        free = Q(lock_token="") | Q(locked_until__lt=timezone.now())
        claimable = self._rows().filter(free).select_for_update(skip_locked=True).values("pk")
        needs_transaction = connection.features.has_select_for_update
        with transaction.atomic() if needs_transaction else nullcontext():
            taken = (
                self._rows()
                .filter(free, pk__in=claimable)
                .update(lock_token=self.token, locked_until=self._until())
            )
        return bool(taken)

    def _take_over(self, holder: str) -> bool:
        return bool(
            self._rows()
            .filter(lock_token=holder)
            .update(lock_token=self.token, locked_until=self._until())
        )

    def _extend(self) -> bool:
        return bool(self._rows().filter(lock_token=self.token).update(locked_until=self._until()))

    def _give_back(self) -> None:
        self._rows().filter(lock_token=self.token).update(lock_token="", locked_until=None)

    def finish(self, **fields) -> None:
        """On the leased row itself: one conditional UPDATE, the outcome and the release."""
        if self.record is not self._rows:
            return super().finish(**fields)
        if not self.held:
            raise LockLost("the lease is not held")
        mine = self._rows().filter(lock_token=self.token)
        self.held = False
        if not mine.update(**fields, lock_token="", locked_until=None):
            raise LockLost("the lease expired and was taken over")

    def holder(self) -> str | None:
        row = self._rows().values("lock_token", "locked_until").first()
        if not row or not row["lock_token"] or row["locked_until"] < timezone.now():
            return None
        return row["lock_token"]


def lock_for_cursor(cursor_id: int, ttl: float | None = None) -> Lease:
    """The lease of one cursor: in Redis when it is configured, else on the cursor's row."""

    def rows():
        return _cursor_rows(cursor_id)

    if settings.REDIS_URL:
        return RedisLease(f"cursor:{cursor_id}", ttl, record=rows)
    return DatabaseLease(rows, ttl, record=rows)


def named_lock(name: str, ttl: float | None = None) -> Lease:
    """A lease on any name (e.g. ``credit:<account id>``): in Redis when it is configured, else
    on a :class:`~messaging.models.NamedLease` row."""
    if settings.REDIS_URL:
        return RedisLease(name, ttl)
    from .models import NamedLease

    return DatabaseLease(
        lambda: NamedLease.objects.filter(name=name),
        ttl,
        create=lambda: NamedLease.objects.bulk_create(
            [NamedLease(name=name)], ignore_conflicts=True
        ),
    )
