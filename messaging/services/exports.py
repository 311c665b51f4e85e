"""Exports that run in the background: the :class:`~messaging.models.Export` row, its file.

The rows come from :func:`messaging.selectors.export_rows` (what the list shows); the file
formats are :mod:`messaging.exports`.
"""

from __future__ import annotations

import os

from django.utils import timezone

from accounts.zones import time_zone_of

from .. import exports
from ..models import Export
from ..selectors import export_rows
from . import enqueue


def start_export(*, actor, feed: str, fmt: str, query: str) -> Export:
    """Record an export of ``feed`` filtered by ``query`` and queue the writing of its file."""
    export = Export.objects.create(user=actor, feed=feed, format=fmt, query=query)
    enqueue("messaging.export", export.pk)
    return export


def write_export(*, export_id: int) -> None:
    """Write the export's file, updating its progress; safe to run twice (rewrites the file)."""
    export = Export.objects.select_related("user").get(pk=export_id)
    if export.state == Export.State.DONE:
        return
    rows = export_rows(export.user, export.feed, export.query)
    expected = rows.count()
    Export.objects.filter(pk=export.pk).update(state=Export.State.RUNNING, rows_expected=expected)
    name = f"{export.feed}-{export.pk}-{timezone.now():%Y%m%d-%H%M%S}.{export.format}"
    path = exports.export_dir() / name
    partial = path.with_suffix(path.suffix + ".part")

    def progress(done: int) -> None:
        Export.objects.filter(pk=export.pk).update(rows_done=done)

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
    Export.objects.filter(pk=export.pk).update(
        state=Export.State.DONE, rows_done=expected, file_name=name, finished_at=timezone.now()
    )
