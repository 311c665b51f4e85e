"""Acceptance 2: a worker SIGKILLed mid-pull, ten times, during a 50,000-row sync.

The pulls run in a real Celery worker process (solo pool) that talks to the live sandbox over
HTTP and writes to this test's database. Each time rows are being written, the worker is
killed with SIGKILL — no cleanup, no lock release, a transaction cut anywhere — and a new one
is started. In the end every server row is stored exactly once and the cursor sits on the
highest id.
"""

from __future__ import annotations

import os
import random
import signal
import time

import pytest

from bearsms_portal.sandbox.models import Outgoing
from messaging.models import Feed, OutgoingMessage, SyncCursor
from messaging.tasks import pull_feed

from .conftest import cursor_of, link_account
from .workers import WorkerRelay, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROWS = 50_000
KILLS = 10


def _stored() -> int:
    return OutgoingMessage.objects.count()


def test_sigkill_mid_pull_ten_times_leaves_no_gap_and_no_duplicate(live_sandbox_documented):
    sandbox = live_sandbox_documented
    alice = link_account(sandbox, "alice")
    sandbox.add_outgoing("alice", ROWS, step_seconds=0.5)
    server = set(Outgoing.objects.filter(user__username="alice").values_list("pk", flat=True))
    assert len(server) == ROWS
    cursor = cursor_of(alice, Feed.OUTGOING)
    rng = random.Random(6)
    kills = 0
    page = {"SYNC_PAGE_SIZE": "1000", "SYNC_BATCH_SIZE": "1000"}
    relay = WorkerRelay("test-kill", sandbox.url, **page)  # the next worker starts meanwhile
    try:
        while kills < KILLS:
            queue, worker = relay.take()
            try:
                before = _stored()
                pull_feed.apply_async(args=[cursor.pk], queue=queue)
                wait_for(lambda before=before: _stored() > before, 120, "the pull to write rows")
                time.sleep(rng.uniform(0.0, 0.8))
                cursor.refresh_from_db()
                assert cursor.last_success_at is None, "the pull ended before it could be killed"
                os.kill(worker.pid, signal.SIGKILL)
                kills += 1
            finally:
                worker.kill()
                worker.wait(timeout=30)
        partial = _stored()
        assert 0 < partial < ROWS

        queue, worker = relay.take(last=True)
        try:
            pull_feed.apply_async(args=[cursor.pk], queue=queue)
            wait_for(
                lambda: SyncCursor.objects.get(pk=cursor.pk).last_success_at is not None,
                300,
                "the final pull",
            )
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    finally:
        relay.close()
    ids = list(OutgoingMessage.objects.filter(account=alice).values_list("smslog_id", flat=True))
    assert len(ids) == len(set(ids)) == ROWS, "a duplicate or a gap"
    assert set(ids) == server
    cursor.refresh_from_db()
    assert cursor.last_id == max(server) and cursor.error_count == 0
    from messaging.models import DailyStat

    assert sum(DailyStat.objects.filter(account=alice).values_list("sent", flat=True)) == ROWS
