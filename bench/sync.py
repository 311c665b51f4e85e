"""Benchmark of the messaging sync at 1,000,000 rows, on PostgreSQL (prints figures, no verdict).

    .venv/bin/python bench/sync.py            # BENCH_ROWS=1000000 by default

What it does, in its own database ``bench_messaging`` (created if missing; BENCH_DATABASE_URL to
change it) and against the built-in sandbox served by gunicorn on BENCH_PORT (default 8765):

1. seeds BENCH_ROWS outgoing rows for the sandbox account ``bench`` (once; reused afterwards);
2. **bare fetch**: the same trap-safe scan the sync does (``Client.iter_delivery_status``),
   HTTP + parse only, nothing stored;
3. **full sync**: ``messaging.sync.pull`` from an empty local table (fetch and upsert overlap);
4. **naive save**: a per-row ``update_or_create`` loop over the first BENCH_NAIVE_ROWS rows,
   extrapolated to the full count (running it over a million rows would take most of an hour);
5. **poll with nothing new**: requests, SQL queries and milliseconds of portal time (total
   minus the time spent waiting for the server), median of 20 polls.
"""

from __future__ import annotations

import os
import signal
import statistics
import sys
import time

from _harness import setup_django as _setup_django
from _harness import start_sandbox_server, use_database

BENCH_DB = use_database("BENCH_DATABASE_URL", "bench_messaging")
ROWS = int(os.environ.get("BENCH_ROWS", 1_000_000))
NAIVE_ROWS = int(os.environ.get("BENCH_NAIVE_ROWS", 20_000))
PORT = int(os.environ.get("BENCH_PORT", 8765))
USERNAME = "bench"


def setup_django() -> None:
    """Django on the bench database, kept between runs (the seeded rows are reused)."""
    _setup_django(BENCH_DB, fresh=False)


def bench_account(rows: int = ROWS):
    """The sandbox account with ``rows`` outgoing rows, and its linked portal account."""
    from django.conf import settings

    from accounts.models import BearSMSAccount
    from bearsms_portal.sandbox.models import Outgoing, SandboxUser
    from bearsms_portal.sandbox.services import world

    world.ensure_main_admin(settings.BEARSMS_ADMIN_USERNAME, token=settings.BEARSMS_ADMIN_TOKEN)
    user = SandboxUser.objects.filter(username=USERNAME, deleted=False).first()
    if user is None:
        world.create_user(USERNAME)
        user = SandboxUser.objects.get(username=USERNAME, deleted=False)
    have = Outgoing.objects.filter(user=user).count()
    if have != rows:
        Outgoing.objects.filter(user=user).delete()
        started = time.perf_counter()
        world.add_outgoing(user, rows, step_seconds=0.05)
        print(f"seeded {rows:,} sandbox rows in {time.perf_counter() - started:.1f} s")
    account, _ = BearSMSAccount.objects.get_or_create(username=USERNAME)
    account.store_token(user.token)
    account.save()
    return account


class ServerTimer:
    """Wraps a client's list method to add up the time spent waiting for the server."""

    def __init__(self, client, name: str):
        self.spent = 0.0
        self.calls = 0
        inner = getattr(client, name)

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.spent += time.perf_counter() - started
                self.calls += 1

        timed.__name__ = name
        setattr(client, name, timed)


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so the server below is stopped
    setup_django()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.clients import client_for
    from messaging import sync
    from messaging.models import DailyStat, Feed, OutgoingMessage, SyncCursor

    server = start_sandbox_server(BENCH_DB, PORT, workers=2)
    settings.BEARSMS_URL = f"http://127.0.0.1:{PORT}/sandbox"
    try:
        account = bench_account()
        print(
            f"PostgreSQL, {ROWS:,} rows, page size c={settings.SYNC_PAGE_SIZE}, "
            f"upsert batch {settings.SYNC_BATCH_SIZE}"
        )

        # 1. bare fetch: the same scan, HTTP + parse only
        client = client_for(account)
        timer = ServerTimer(client, "delivery_status")
        started = time.perf_counter()
        sample, count = [], 0
        for record in client.iter_delivery_status(after=0, page_size=settings.SYNC_PAGE_SIZE):
            count += 1
            if len(sample) < NAIVE_ROWS:
                sample.append(record)
        bare = time.perf_counter() - started
        print(
            f"bare fetch:  {count:,} rows in {bare:.1f} s ({count / bare:,.0f} rows/s, "
            f"{timer.calls} requests)"
        )

        # 2. full sync from scratch
        OutgoingMessage.objects.filter(account=account).delete()
        DailyStat.objects.filter(account=account).delete()
        SyncCursor.objects.filter(account=account).delete()
        cursor = SyncCursor.objects.select_related("account").create(
            account=account, feed=Feed.OUTGOING
        )
        started = time.perf_counter()
        result = sync.pull(cursor=cursor, sweep=False, refresh=False)
        full = time.perf_counter() - started
        stored = OutgoingMessage.objects.filter(account=account).count()
        print(
            f"full sync:   {result.new_rows:,} rows in {full:.1f} s ({stored / full:,.0f} "
            f"rows/s, {result.requests} requests) = {full / bare:.2f}x the bare fetch; "
            f"stored {stored:,}"
        )

        # 3. the write path alone (the sample, already fetched) vs a naive per-row save
        from django.db import transaction
        from django.utils import timezone

        from messaging import store

        sample_ids = [r.smslog_id for r in sample]
        OutgoingMessage.objects.filter(account=account, smslog_id__in=sample_ids).delete()
        started = time.perf_counter()
        for first in range(0, len(sample), settings.SYNC_BATCH_SIZE):
            with transaction.atomic():
                store.write_outgoing(
                    account.pk, sample[first : first + settings.SYNC_BATCH_SIZE], timezone.now()
                )
        bulk = time.perf_counter() - started
        print(
            f"bulk upsert alone: {len(sample):,} rows in {bulk:.2f} s "
            f"({len(sample) / bulk:,.0f} rows/s)"
        )
        OutgoingMessage.objects.filter(account=account, smslog_id__in=sample_ids).delete()
        started = time.perf_counter()
        for r in sample:
            OutgoingMessage.objects.update_or_create(
                account=account,
                smslog_id=r.smslog_id,
                defaults={
                    "src": r.src,
                    "dst": r.dst,
                    "text": r.msg,
                    "status": int(r.status),
                    "dispatched_at": r.dt,
                    "status_changed_at": r.update,
                    "server_dt": r.raw.get("dt", ""),
                    "synced_at": r.dt,
                },
            )
        naive = time.perf_counter() - started
        naive_full = naive / len(sample) * ROWS
        print(
            f"naive save:  {len(sample):,} rows in {naive:.1f} s ({len(sample) / naive:,.0f} "
            f"rows/s) = {naive / bulk:.0f}x slower than the bulk upsert; {ROWS:,} rows would "
            f"take {naive_full:.0f} s of saving + {bare:.0f} s of fetching = "
            f"{(naive_full + bare) / full:.1f}x the full sync"
        )

        # 4. poll with nothing new
        cursor = SyncCursor.objects.select_related("account").get(pk=cursor.pk)
        samples = []
        for _ in range(20):
            cursor = SyncCursor.objects.select_related("account").get(pk=cursor.pk)
            poll_client = client_for(account)
            timer = ServerTimer(poll_client, "delivery_status")
            connection.queries_log.clear()
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                cursor = SyncCursor.objects.select_related("account").get(pk=cursor.pk)
                result = sync.pull(cursor=cursor, sweep=False, refresh=False, client=poll_client)
                total = time.perf_counter() - started
            samples.append((timer.calls, len(queries), total * 1000, (total - timer.spent) * 1000))
        requests_made = statistics.median(s[0] for s in samples)
        queries_made = statistics.median(s[1] for s in samples)
        print(
            f"poll, nothing new: {requests_made:.0f} request(s), {queries_made:.0f} queries, "
            f"{statistics.median(s[2] for s in samples):.1f} ms total, "
            f"{statistics.median(s[3] for s in samples):.1f} ms portal time (median of 20)"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
