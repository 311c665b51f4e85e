"""The sync lease (messaging.locks): one pull per cursor at a time, checked by the store.

Acceptance: two pullers run against one cursor with a short TTL and never overlap — in Redis
(when ``REDIS_URL`` is configured, as in CI) and on the database lease (SQLite or PostgreSQL
without Redis). One puller stalls until its lease has expired and the other has taken it over;
the stalled one, when it wakes, stops without writing another row.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from messaging import locks, store, sync
from messaging.locks import DatabaseLease, LockLost, RedisLease, lock_for_cursor
from messaging.models import Feed, OutgoingMessage, SyncCursor

from .conftest import cursor_of, link_account
from .test_sync import assert_exact_copy

pytestmark = pytest.mark.django_db(transaction=True)

TTL = 1.0


@pytest.fixture(params=["database", "redis"])
def lease_store(request, settings):
    """Which store :func:`lock_for_cursor` uses in this test."""
    if request.param == "redis":
        if not settings.REDIS_URL:
            pytest.skip("REDIS_URL is not configured (CI runs this with Redis)")
    else:
        settings.REDIS_URL = ""
    return request.param


@pytest.fixture
def cursor(sandbox_documented, lease_store):
    alice = link_account(sandbox_documented, "alice")
    return cursor_of(alice, Feed.OUTGOING)


def _kind(lease_store):
    return RedisLease if lease_store == "redis" else DatabaseLease


# --- the lease itself --------------------------------------------------------------------------


def test_one_holder_renewal_checks_the_owner_and_release_is_the_owners(cursor, lease_store):
    first, second = lock_for_cursor(cursor.pk, TTL), lock_for_cursor(cursor.pk, TTL)
    assert isinstance(first, _kind(lease_store))
    assert first.acquire() and not second.acquire()
    assert second.is_locked() and second.holder() == first.token
    first.renew(force=True)  # still ours

    time.sleep(TTL + 0.2)  # expired, not renewed
    assert not first.is_locked()
    assert second.acquire()  # taken over
    with pytest.raises(LockLost):
        first.renew(force=True)
    first.release()  # not the holder any more: must not free the other's lease
    assert second.holder() == second.token
    second.release()
    assert not second.is_locked()


def test_a_dead_local_holder_is_taken_over_at_once(cursor, lease_store, monkeypatch):
    dead = lock_for_cursor(cursor.pk, 60)
    assert dead.acquire()
    monkeypatch.setattr(locks, "_alive", lambda pid: False)  # its process is gone
    heir = lock_for_cursor(cursor.pk, 60)
    assert heir.acquire() and heir.holder() == heir.token
    with pytest.raises(LockLost):
        dead.renew(force=True)
    heir.release()


def test_a_live_holder_is_not_taken_over(cursor, lease_store):
    holder = lock_for_cursor(cursor.pk, 60)
    assert holder.acquire()
    assert not lock_for_cursor(cursor.pk, 60).acquire()  # same host, this (live) process
    holder.release()


def test_finish_writes_the_outcome_only_while_the_lease_is_ours(cursor, lease_store):
    lease = lock_for_cursor(cursor.pk, TTL)
    assert lease.acquire()
    lease.finish(last_rows=7)
    assert SyncCursor.objects.get(pk=cursor.pk).last_rows == 7 and not lease.is_locked()

    late = lock_for_cursor(cursor.pk, TTL)
    assert late.acquire()
    time.sleep(TTL + 0.2)
    other = lock_for_cursor(cursor.pk, TTL)
    assert other.acquire()
    with pytest.raises(LockLost):
        late.finish(last_rows=99)
    assert SyncCursor.objects.get(pk=cursor.pk).last_rows == 7
    other.release()


# --- two pullers -------------------------------------------------------------------------------


@pytest.fixture
def live_cursor(live_sandbox_documented, lease_store):
    """The cursor of a feed on the sandbox served over real HTTP by the live server: each pull
    fetches in a thread of its own, which must not share the test's in-process sandbox."""
    alice = link_account(live_sandbox_documented, "alice")
    return cursor_of(alice, Feed.OUTGOING)


def _wait_for(condition, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(TTL / 10)


def test_two_pullers_with_a_short_ttl_never_overlap(
    live_cursor, live_sandbox_documented, settings, monkeypatch
):
    """Puller A takes the lease and writes a first batch; B asks and is refused; then A stalls
    between two batches (no transaction open: a stalled host, a long GC pause) without renewing
    until its lease has expired and B has taken it over, and carries on as if nothing happened.
    The order of events is forced, not left to timing, so the test means the same on a loaded
    machine: only the lease decides who writes."""
    cursor = live_cursor
    settings.SYNC_LOCK_TTL = TTL
    settings.SYNC_PAGE_SIZE = 20
    settings.SYNC_BATCH_SIZE = 10
    live_sandbox_documented.add_outgoing("alice", 160)

    here = threading.local()
    writes: list[tuple[float, float, str]] = []  # (start, end, session) of every batch written
    a_wrote = threading.Event()  # A holds the lease and has written: B starts asking
    b_refused = threading.Event()  # B asked while A held the lease
    stalled = threading.Event()
    real_write, real_next_item = store.write, sync._next_item

    def recorded_write(*args, **kwargs):
        start = time.monotonic()
        written = real_write(*args, **kwargs)
        writes.append((start, time.monotonic(), here.session))
        if here.session.startswith("A"):
            a_wrote.set()
        return written

    def next_item(fetcher, lock):
        if here.session.startswith("A") and a_wrote.is_set() and not stalled.is_set():
            stalled.set()
            while not b_refused.wait(TTL / 5):  # A keeps its lease until B has been refused
                lock.renew(force=True)
            # The stall: no renewal until the lease has expired and B holds it.
            _wait_for(lambda: lock.holder() not in (None, lock.token), "B takes the lease over")
        return real_next_item(fetcher, lock)

    monkeypatch.setattr(store, "write", recorded_write)
    monkeypatch.setattr(sync, "_next_item", next_item)

    results: dict[str, list] = {"A": [], "B": []}
    errors = []

    def puller(name: str):
        here.session = name
        try:
            if name == "B":
                assert a_wrote.wait(60), "A never wrote"
            for attempt in range(400):
                here.session = f"{name}{attempt}"
                fresh = SyncCursor.objects.select_related("account").get(pk=cursor.pk)
                with sync.client_for_cursor(fresh) as client:  # closed: no idle keep-alive
                    result = sync.pull(cursor=fresh, sweep=False, refresh=False, client=client)
                results[name].append(result)
                if result.skipped and name == "B":
                    b_refused.set()
                caught_up = not (result.skipped or result.lost) and result.new_rows == 0
                if caught_up and stalled.is_set():
                    break  # nothing left after the take-over
                time.sleep(0.05)
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)
            b_refused.set()  # never leave A waiting
        finally:
            connection.close()

    threads = [threading.Thread(target=puller, args=(name,)) for name in "AB"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert stalled.is_set(), "puller A never stalled: the test did not test anything"

    # Never overlapping: sorted by time, the batches of one pull form one block, and each
    # block ends before the next begins.
    writes.sort()
    blocks = [writes[0][2]]
    for (_, end, session), (start, _, following) in zip(writes, writes[1:], strict=False):
        if following != session:
            assert end <= start, f"{session} and {following} wrote at the same time"
            assert following not in blocks, f"{following} wrote again after {session}"
            blocks.append(following)
    # A held the lease first, lost it while stalled, and wrote nothing after that; B took over.
    lost = [r for r in results["A"] if r.lost]
    assert len(lost) == 1 and blocks[0] == "A0", (blocks, results["A"])
    assert any(b.startswith("B") for b in blocks[1:]), blocks
    assert any(r.skipped for r in results["B"]), "B never found the lease taken"
    assert_exact_copy(cursor.account)
    cursor.refresh_from_db()
    assert cursor.last_id == max(
        OutgoingMessage.objects.filter(account=cursor.account).values_list("smslog_id", flat=True)
    )
    assert cursor.error_count == 0 and not cursor.lock_token


def test_named_locks_are_leases_too(lease_store, db):
    first, second = locks.named_lock("credit:1", TTL), locks.named_lock("credit:1", TTL)
    assert isinstance(first, _kind(lease_store))
    assert first.acquire() and not second.acquire()
    assert locks.named_lock("credit:2", TTL).acquire()  # another name is another lease
    first.release()
    assert second.acquire()
    time.sleep(TTL + 0.2)
    assert first.acquire()  # expired: taken over
    with pytest.raises(LockLost):
        second.renew(force=True)
    first.release()
