"""Beat → schedule_pulls → pull tasks: due cursors only, none behind a running pull."""

from __future__ import annotations

import pytest
from django.conf import settings

from messaging import tasks
from messaging.locks import lock_for_cursor
from messaging.models import OutgoingMessage, SyncCursor

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sandbox_documented(live_sandbox_documented):
    """The sync fetches in a thread of its own: the sandbox answers over real HTTP."""
    return live_sandbox_documented


def test_beat_entry_is_configured():
    entry = settings.CELERY_BEAT_SCHEDULE["messaging-sync"]
    assert entry["task"] == "messaging.schedule_pulls"


def test_schedule_pulls_runs_due_cursors_once(sandbox_documented, alice, eager):
    sandbox_documented.add_outgoing("alice", 12)
    assert tasks.schedule_pulls() == 4  # alice ds/in/ix and the admin sx
    assert OutgoingMessage.objects.filter(account=alice).count() == 12
    assert all(c.last_success_at for c in SyncCursor.objects.all())
    assert tasks.schedule_pulls() == 0  # nothing is due before SYNC_INTERVAL


def test_running_pull_is_not_queued_again(sandbox_documented, alice, eager):
    tasks.schedule_pulls()
    SyncCursor.objects.update(next_pull_at=None)
    ds = SyncCursor.objects.get(account=alice, feed="ds")
    lock = lock_for_cursor(ds.pk)
    assert lock.acquire()
    try:
        assert tasks.schedule_pulls() == 3
    finally:
        lock.release()
    assert tasks.schedule_pulls() == 1
