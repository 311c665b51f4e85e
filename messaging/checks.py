"""The ``sync`` entry of /healthz: is every (account, feed) pulled recently and without errors?

Reports counts, the worst lag in seconds and the labels (``username/feed``) of the cursors that
are failing or stale — never an error text, which could quote the server.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from .models import SyncCursor


def sync_health() -> dict:
    now = timezone.now()
    failing, stale, worst = [], [], 0.0
    cursors = list(SyncCursor.objects.select_related("account"))
    for cursor in cursors:
        if cursor.last_success_at is None:
            lag = (now - (cursor.last_attempt_at or now)).total_seconds()
        else:
            lag = (now - cursor.last_success_at).total_seconds()
        worst = max(worst, lag)
        if cursor.error_count:
            failing.append(str(cursor))
        elif cursor.last_success_at is not None and lag > settings.SYNC_STALE_AFTER:
            stale.append(str(cursor))
    return {
        "ok": not failing and not stale,
        "cursors": len(cursors),
        "failing": failing[:20],
        "stale": stale[:20],
        "max_lag_s": round(worst, 1),
    }
