"""The ``sync`` entry of /healthz.

It is *down* when the sync as a whole has stopped: there are cursors, and none has had a
successful pull for ``SYNC_STALE_AFTER`` seconds (no worker, no beat, or the server unreachable).
One failing or stale feed — a revoked token, a banned account — does not take the portal's
health down; it is listed under ``failing``/``stale`` by label (``username/feed``), with the
worst lag. Never an error text, which could quote the server.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from .models import SyncCursor


def sync_health() -> dict:
    now = timezone.now()
    failing, stale, worst, freshest = [], [], 0.0, None
    cursors = list(SyncCursor.objects.select_related("account"))
    for cursor in cursors:
        if cursor.last_success_at is None:
            if cursor.error_count:
                failing.append(str(cursor))
            continue
        lag = (now - cursor.last_success_at).total_seconds()
        worst = max(worst, lag)
        freshest = lag if freshest is None else min(freshest, lag)
        if cursor.error_count:
            failing.append(str(cursor))
        elif lag > settings.SYNC_STALE_AFTER:
            stale.append(str(cursor))
    attempted = any(c.last_attempt_at for c in cursors)
    stopped = attempted and (freshest is None or freshest > settings.SYNC_STALE_AFTER)
    return {
        "ok": not stopped,
        "cursors": len(cursors),
        "failing": failing[:20],
        "stale": stale[:20],
        "max_lag_s": round(worst, 1),
    }
