"""Sync cursors: ask for a pull now (the pull itself is :func:`messaging.sync.pull`)."""

from __future__ import annotations

from django.utils import timezone

from ..models import SyncCursor


def request_pull_now(*, actor, cursor: SyncCursor) -> None:
    """Make the cursor due at once; the next beat tick pulls it (under its lock, as always)."""
    SyncCursor.objects.filter(pk=cursor.pk).update(next_pull_at=timezone.now())
