"""The sync against the live sandbox over HTTP: gap-free, exactly once, late rows, statuses."""

from __future__ import annotations

import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bearsms_portal.sandbox.models import Outgoing
from messaging import sync
from messaging.models import DailyStat, Feed, OutgoingMessage, SyncCursor

from .conftest import cursor_of, link_account

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sandbox(live_sandbox):
    """The sync fetches in a thread of its own: the sandbox answers over real HTTP."""
    return live_sandbox


def server_ids(username: str) -> set[int]:
    return set(
        Outgoing.objects.filter(user__username=username, dt__isnull=False).values_list(
            "pk", flat=True
        )
    )


def local_ids(account) -> list[int]:
    return list(OutgoingMessage.objects.filter(account=account).values_list("smslog_id", flat=True))


def assert_exact_copy(account):
    ids = local_ids(account)
    assert len(ids) == len(set(ids)), "duplicates"
    assert set(ids) == server_ids(account.username)


def test_five_pages_of_new_rows_between_two_pulls_arrive_exactly_once(
    sandbox, alice, ds_cursor, settings
):
    sandbox.add_outgoing("alice", 30)
    first = sync.pull(cursor=ds_cursor)
    assert first.new_rows == 30
    assert_exact_copy(alice)

    sandbox.add_outgoing("alice", 5 * settings.SYNC_PAGE_SIZE, step_seconds=0.5)
    second = sync.pull(cursor=ds_cursor)
    assert second.new_rows == 5 * settings.SYNC_PAGE_SIZE
    assert_exact_copy(alice)
    ds_cursor.refresh_from_db()
    assert ds_cursor.last_id == max(server_ids("alice"))
    assert ds_cursor.error_count == 0 and ds_cursor.last_success_at is not None
    # The daily counts follow the rows (no count over the message table needed).
    assert sum(DailyStat.objects.filter(account=alice).values_list("sent", flat=True)) == 530


def test_pull_while_rows_keep_arriving(sandbox, alice, ds_cursor):
    stop = threading.Event()
    errors = []

    def producer():
        try:
            for _ in range(15):
                if stop.is_set():
                    break
                sandbox.add_outgoing("alice", 40, step_seconds=0.1)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=producer)
    thread.start()
    try:
        while thread.is_alive():
            sync.pull(cursor=ds_cursor)
    finally:
        stop.set()
        thread.join()
    assert not errors
    sync.pull(cursor=ds_cursor)
    assert_exact_copy(alice)
    assert len(local_ids(alice)) == 600


def test_poll_with_nothing_new_is_one_request_and_few_queries(sandbox, alice, ds_cursor):
    sandbox.add_outgoing("alice", 5)
    sync.pull(cursor=ds_cursor, sweep=True, refresh=True)
    before = len(sandbox.requests("ds"))
    cursor = SyncCursor.objects.select_related("account").get(pk=ds_cursor.pk)
    with CaptureQueriesContext(connection) as queries:
        result = sync.pull(cursor=cursor)
    assert result.new_rows == 0 and result.swept is None and result.refreshed is None
    assert len(sandbox.requests("ds")) - before == 1
    assert len(queries) <= 3, [q["sql"] for q in queries]


def test_late_rows_below_the_cursor_are_found_by_the_sweep(sandbox, alice, ds_cursor, settings):
    """A message queued before newer rows but dispatched after them keeps its early id."""
    from accounts.clients import client_for

    [queued] = client_for(alice).send_message("628111222333", "held back by the daemon")
    sandbox.add_outgoing("alice", 20)
    sync.pull(cursor=ds_cursor)
    ds_cursor.refresh_from_db()
    assert ds_cursor.last_id > queued.smslog_id
    assert queued.smslog_id not in local_ids(alice)

    sandbox.settle()  # the daemon dispatches it now: it shows up in ds below the cursor
    assert queued.smslog_id in server_ids("alice")
    result = sync.pull(cursor=ds_cursor, sweep=True)
    assert result.swept >= 1
    assert queued.smslog_id in local_ids(alice)
    assert_exact_copy(alice)


def test_status_changes_on_old_messages_arrive_within_one_refresh(sandbox, alice, ds_cursor):
    sandbox.add_outgoing("alice", 12, status=0)
    sync.pull(cursor=ds_cursor, refresh=False)
    assert set(OutgoingMessage.objects.filter(account=alice).values_list("status", flat=True)) == {
        0
    }
    sandbox.add_outgoing("alice", 5)  # newer rows: the pending ones are now "old"
    sandbox.settle()
    server = dict(Outgoing.objects.filter(user__username="alice").values_list("pk", "status"))
    assert set(server.values()) - {0}, "the sandbox reported statuses"

    result = sync.pull(cursor=ds_cursor, refresh=True)
    assert result.refreshed >= 1
    local = dict(OutgoingMessage.objects.filter(account=alice).values_list("smslog_id", "status"))
    assert local == server
    # daily counts moved with the statuses
    stat = DailyStat.objects.filter(account=alice)
    totals = {
        f: sum(stat.values_list(f, flat=True))
        for f in ("sent", "pending", "accepted", "delivered", "failed")
    }
    assert totals["sent"] == 17
    assert totals["pending"] + totals["accepted"] + totals["delivered"] + totals["failed"] == 17
    assert totals["delivered"] == sum(1 for s in server.values() if s == 3)


def test_incoming_inbox_and_sandbox_feeds(sandbox, alice, settings):
    sandbox.add_keyword("alice", "IDOL", scenarios={"A": "thanks"})
    sandbox.inject_incoming("+628999000111", "IDOL A <script>alert(1)</script>")
    sandbox.inject_incoming("+628999000222", "nobody handles this")
    sync.ensure_cursors()
    results = [sync.pull(cursor=c) for c in SyncCursor.objects.select_related("account")]
    assert not [r for r in results if r.error]
    from messaging.models import IncomingMessage, SandboxMessage

    assert IncomingMessage.objects.filter(account=alice, feed=Feed.INCOMING).count() == 1
    assert SandboxMessage.objects.filter(text="nobody handles this").count() == 1
    sx = SyncCursor.objects.get(account=None, feed=Feed.SANDBOX)
    assert sx.last_id >= 1


def test_errors_are_recorded_and_back_off(sandbox, alice, ds_cursor):
    sandbox.set_fault("ds", "http500", 1.0)
    with pytest.raises(Exception):  # noqa: B017 (whatever the client raises for a 500)
        sync.pull(cursor=ds_cursor)
    ds_cursor.refresh_from_db()
    assert ds_cursor.error_count == 1 and ds_cursor.last_error
    first_delay = ds_cursor.next_pull_at - ds_cursor.last_attempt_at
    with pytest.raises(Exception):  # noqa: B017
        sync.pull(cursor=ds_cursor)
    ds_cursor.refresh_from_db()
    assert ds_cursor.error_count == 2
    assert ds_cursor.next_pull_at - ds_cursor.last_attempt_at > first_delay * 1.2
    sandbox.clear_faults()
    sync.pull(cursor=ds_cursor)
    ds_cursor.refresh_from_db()
    assert ds_cursor.error_count == 0


def test_one_pull_per_feed_at_a_time(sandbox, alice, ds_cursor):
    from messaging.locks import lock_for_cursor

    held = lock_for_cursor(ds_cursor.pk)
    assert held.acquire()
    try:
        assert sync.pull(cursor=ds_cursor).skipped
    finally:
        held.release()
    assert not sync.pull(cursor=ds_cursor).skipped


def test_sync_command(sandbox, alice, capsys):
    sandbox.add_outgoing("alice", 7)
    call_command("sync", account="alice", feed="ds")
    out = capsys.readouterr().out
    assert "alice/ds: 7 new rows" in out
    link_account(sandbox, "bob")
    call_command("sync", feed="ds")
    assert "bob/ds: 0 new rows" in capsys.readouterr().out
    assert cursor_of(alice, Feed.OUTGOING).last_id > 0


def test_daily_stats_match_a_rebuild_from_the_tables(sandbox, alice, ds_cursor):
    from messaging.store import rebuild_daily_stats

    sandbox.add_outgoing("alice", 8, status=0)
    sync.pull(cursor=ds_cursor)
    sandbox.settle()
    sync.pull(cursor=ds_cursor, refresh=True)
    fields = ("day", "sent", "pending", "accepted", "delivered", "failed", "incoming")
    kept = list(DailyStat.objects.filter(account=alice).order_by("day").values_list(*fields))
    rebuild_daily_stats([alice.pk])
    rebuilt = list(DailyStat.objects.filter(account=alice).order_by("day").values_list(*fields))
    assert kept == rebuilt and kept[0][1] == 8


def test_rebuild_daily_stats_command_repairs_the_counts(sandbox, alice, ds_cursor, capsys):
    sandbox.add_outgoing("alice", 5, status=0)
    sync.pull(cursor=ds_cursor)
    fields = ("day", "sent", "pending", "incoming")
    kept = list(DailyStat.objects.filter(account=alice).order_by("day").values_list(*fields))
    DailyStat.objects.filter(account=alice).update(sent=99, pending=0)  # damaged by hand
    call_command("rebuild_daily_stats", account=["alice"])
    rebuilt = list(DailyStat.objects.filter(account=alice).order_by("day").values_list(*fields))
    assert rebuilt == kept and kept[0][1] == 5
    assert "5 sent" in capsys.readouterr().out
    with pytest.raises(CommandError, match="ghost"):
        call_command("rebuild_daily_stats", account=["ghost"])


def test_late_row_behind_more_than_a_page_of_newer_rows(sandbox, alice, ds_cursor, settings):
    """The sweep's first answer does not reach back to its watermark: it reads the minutes."""
    from datetime import timedelta

    from django.utils import timezone

    from accounts.clients import client_for

    sandbox.add_outgoing("alice", 10)
    sync.pull(cursor=ds_cursor)
    [queued] = client_for(alice).send_message("628111222444", "late one")
    sandbox.add_outgoing("alice", 30)
    sync.pull(cursor=ds_cursor, sweep=False)
    sandbox.settle()  # dispatched now (+120 s): below the cursor, newer than the watermark
    sandbox.add_outgoing(
        "alice",
        3 * settings.SYNC_PAGE_SIZE,
        step_seconds=0.2,
        start=timezone.now() + timedelta(seconds=400),
    )
    before = len(sandbox.requests("ds"))
    sync.pull(cursor=ds_cursor, sweep=True)
    windows = [
        r.params.get("dt", "") for r in sandbox.requests("ds")[before:] if not r.params.get("last")
    ]
    assert any(len(w) == 16 for w in windows), windows  # minute windows were read
    assert queued.smslog_id in local_ids(alice)
    assert_exact_copy(alice)
