"""Sync cursors: ask for a pull now (the pull itself is :func:`messaging.sync.pull`)."""

from __future__ import annotations

from django.utils import timezone

from accounts.audit import audits_refusals
from accounts.permissions import ensure_can

from ..models import SyncCursor


@audits_refusals("pullnow")
def request_pull_now(*, actor, cursor: SyncCursor) -> None:
    """Make the cursor due at once; the next beat tick pulls it (under its lock, as always).
    Operators only (the sync is theirs to run)."""
    ensure_can(actor, "pullnow")
    SyncCursor.objects.filter(pk=cursor.pk).update(next_pull_at=timezone.now())
