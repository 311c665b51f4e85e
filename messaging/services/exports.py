"""Exports that run in the background: the :class:`~messaging.models.Export` row, its file.

The rows come from :func:`messaging.selectors.export_rows` (what the list shows); the file
formats are :mod:`messaging.exports`. Every background export finishes — done or failed:

- it is started by a POST only (a page's GET never starts work), and each user has at most
  ``EXPORTS_PER_USER`` queued or running at once;
- progress is written through a database connection of its own, never the one the rows are
  read on (on SQLite a write on the reading connection meets the open read; on PostgreSQL
  nothing else may run on a connection that is in ``COPY``); each write is also the job's
  heartbeat;
- beat's :func:`sweep_dead_exports` marks failed a job whose worker died (no heartbeat for
  ``EXPORT_STALE_AFTER`` seconds, or still queued after ``EXPORT_QUEUED_MAX``), and the user
  can retry it (:func:`retry_export`).
"""

from __future__ import annotations

import os
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from accounts.errors import ServiceError
from accounts.zones import time_zone_of

from .. import exports
from ..models import Export
from ..selectors import export_rows
from . import enqueue

ACTIVE = (Export.State.QUEUED, Export.State.RUNNING)
DIED = "its worker stopped answering"


def _ensure_room(actor) -> None:
    """At most ``EXPORTS_PER_USER`` exports queued or running per user; the caller holds the
    user's row lock, so two POSTs at once cannot both take the last place."""
    limit = settings.EXPORTS_PER_USER
    if Export.objects.filter(user=actor, state__in=ACTIVE).count() >= limit:
        raise ServiceError(
            f"You already have {limit} export{'s' if limit != 1 else ''} under way: wait "
            "until one is ready (My exports), then start this one again."
        )


def _lock_user(actor) -> None:
    get_user_model().objects.select_for_update().filter(pk=actor.pk).first()


def start_export(*, actor, feed: str, fmt: str, query: str) -> Export:
    """Record an export of ``feed`` filtered by ``query`` and queue the writing of its file."""
    with transaction.atomic():
        _lock_user(actor)
        _ensure_room(actor)
        export = Export.objects.create(user=actor, feed=feed, format=fmt, query=query)
    enqueue("messaging.export", export.pk)
    return export


def retry_export(*, actor, export: Export) -> Export:
    """Queue a failed export again (same feed, format and filter), within the user's limit."""
    if export.state != Export.State.FAILED:
        raise ServiceError("Only a failed export can be tried again.")
    with transaction.atomic():
        _lock_user(actor)
        _ensure_room(actor)
        Export.objects.filter(pk=export.pk).update(
            state=Export.State.QUEUED,
            rows_done=0,
            error="",
            created_at=timezone.now(),
            started_at=None,
            heartbeat_at=None,
            finished_at=None,
        )
    enqueue("messaging.export", export.pk)
    export.refresh_from_db()
    return export


class _ProgressWriter:
    """Writes an export's progress (and heartbeat) on a connection of its own."""

    def __init__(self, export_id: int):
        self.export_id = export_id
        self.connection = connections.create_connection(DEFAULT_DB_ALIAS)

    def __call__(self, done: int) -> None:
        table = self.connection.ops.quote_name(Export._meta.db_table)
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET rows_done = %s, heartbeat_at = %s WHERE id = %s",  # noqa: S608
                [done, timezone.now(), self.export_id],
            )

    def close(self) -> None:
        self.connection.close()


def write_export(*, export_id: int) -> None:
    """Write the export's file, updating its progress; safe to run twice (rewrites the file)."""
    export = Export.objects.select_related("user").get(pk=export_id)
    if export.state == Export.State.DONE:
        return
    rows = export_rows(export.user, export.feed, export.query)
    now = timezone.now()
    Export.objects.filter(pk=export.pk).update(
        state=Export.State.RUNNING, started_at=now, heartbeat_at=now
    )
    expected = rows.count()
    Export.objects.filter(pk=export.pk).update(rows_expected=expected, heartbeat_at=timezone.now())
    name = f"{export.feed}-{export.pk}-{timezone.now():%Y%m%d-%H%M%S}.{export.format}"
    path = exports.export_dir() / name
    partial = path.with_suffix(path.suffix + ".part")
    progress = _ProgressWriter(export.pk)
    try:
        with timezone.override(time_zone_of(export.user)):  # the times as the user reads them
            exports.WRITERS[export.format](partial, export.feed, rows, progress)
        os.replace(partial, path)
    except Exception as exc:
        Export.objects.filter(pk=export.pk).update(
            state=Export.State.FAILED,
            error=f"{type(exc).__name__}"[:300],
            finished_at=timezone.now(),
        )
        partial.unlink(missing_ok=True)
        raise
    finally:
        progress.close()
    Export.objects.filter(pk=export.pk).update(
        state=Export.State.DONE, rows_done=expected, file_name=name, finished_at=timezone.now()
    )


def sweep_dead_exports() -> int:
    """Mark failed the exports whose worker died: running with no heartbeat for
    ``EXPORT_STALE_AFTER`` seconds, or queued for longer than ``EXPORT_QUEUED_MAX`` (the task
    was lost). Returns how many."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.EXPORT_STALE_AFTER)
    lost = now - timedelta(seconds=settings.EXPORT_QUEUED_MAX)
    running = Export.objects.filter(state=Export.State.RUNNING, heartbeat_at__lt=stale)
    queued = Export.objects.filter(state=Export.State.QUEUED, created_at__lt=lost)
    count = 0
    for dead in (running, queued):
        count += dead.update(state=Export.State.FAILED, error=DIED, finished_at=now)
    return count
