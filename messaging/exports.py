"""CSV and XLSX exports of a filtered, scoped message list.

- Small exports stream straight to the browser: CSV row by row from a server-side cursor
  (``QuerySet.iterator``), XLSX through XlsxWriter's ``constant_memory`` mode (rows go to disk as
  they are written, so memory stays flat) and then out as a file.
- Exports bigger than ``EXPORT_INLINE_MAX_ROWS`` run as a Celery task that writes the file under
  ``MEDIA_ROOT/exports/``, reports progress on its :class:`~messaging.models.Export` row, and is
  downloaded from the export's page. No size cap either way.

Rows come from :mod:`messaging.selectors` only, so an export shows exactly what the list shows.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.http import QueryDict
from django.utils import timezone

from .filters import FILTERS
from .models import DeliveryStatus, Export, Feed
from .selectors import messages_visible_to

_STATUS = dict(DeliveryStatus.choices)
CHUNK = 5000

COLUMNS = {
    Feed.OUTGOING: [("Id", "smslog_id"), ("Account", "account__username"),
                    ("Time (UTC)", "dispatched_at"), ("Sender", "src"), ("Destination", "dst"),
                    ("Status", "status"), ("Status changed", "status_changed_at"),
                    ("Text", "text")],
    Feed.INCOMING: [("Id", "server_id"), ("Account", "account__username"),
                    ("Time (UTC)", "received_at"), ("Sender", "src"), ("Receiving number", "dst"),
                    ("Keyword", "keyword"), ("Text", "text")],
    Feed.INBOX: [("Id", "server_id"), ("Account", "account__username"),
                 ("Time (UTC)", "received_at"), ("Sender", "src"), ("Destination", "dst"),
                 ("Text", "text")],
    Feed.SANDBOX: [("Id", "server_id"), ("Time (UTC)", "received_at"), ("Sender", "src"),
                   ("Receiving number", "dst"), ("Text", "text")],
}


def export_queryset(user, feed: str, query: str):
    """The scoped, filtered rows of an export, newest first, as value tuples."""
    qs = messages_visible_to(user, feed)
    filterset = FILTERS[feed](QueryDict(query), queryset=qs, user=user)
    qs = filterset.qs if filterset.is_valid() else qs.none()
    time_field = "dispatched_at" if feed == Feed.OUTGOING else "received_at"
    fields = [f for _, f in COLUMNS[feed]]
    return qs.select_related(None).order_by(f"-{time_field}", "-id").values_list(*fields)


def _cells(feed: str, row: tuple) -> list:
    out = []
    for (_, name), value in zip(COLUMNS[feed], row, strict=True):
        if name == "status":
            value = _STATUS.get(value, value)
        elif hasattr(value, "isoformat"):
            value = timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""
        elif value is None:
            value = ""
        out.append(value)
    return out


def _safe_csv(value):
    """Neutralise spreadsheet formulas in text cells (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


class _Echo:
    def write(self, value):
        return value


def csv_lines(feed: str, rows) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([title for title, _ in COLUMNS[feed]])
    for row in rows:
        yield writer.writerow([_safe_csv(v) for v in _cells(feed, row)])


def write_csv(path: Path, feed: str, rows, progress=None) -> int:
    count = 0
    with open(path, "w", newline="", encoding="utf-8") as handle:
        for line in csv_lines(feed, rows):
            handle.write(line)
            count += 1
            if progress and count % CHUNK == 0:
                progress(count - 1)
    return max(0, count - 1)


def write_xlsx(path: Path, feed: str, rows, progress=None) -> int:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True,
                                              "strings_to_formulas": False,
                                              "strings_to_urls": False,
                                              "tmpdir": tempfile.gettempdir()})
    sheet = workbook.add_worksheet(dict(Feed.choices)[feed])
    bold = workbook.add_format({"bold": True})
    for col, (title, _) in enumerate(COLUMNS[feed]):
        sheet.write_string(0, col, title, bold)
    count = 0
    for count, row in enumerate(rows, start=1):
        for col, value in enumerate(_cells(feed, row)):
            if isinstance(value, int):
                sheet.write_number(count, col, value)
            else:
                sheet.write_string(count, col, str(value))
        if progress and count % CHUNK == 0:
            progress(count)
    workbook.close()
    return count


WRITERS = {Export.Format.CSV: write_csv, Export.Format.XLSX: write_xlsx}


def export_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def start_background_export(*, user, feed: str, fmt: str, query: str) -> Export:
    from .tasks import run_export

    export = Export.objects.create(user=user, feed=feed, format=fmt, query=query)
    run_export.delay(export.pk)
    return export


def run_background_export(*, export_id: int) -> None:
    """Write the export's file, updating its progress; safe to run twice (rewrites the file)."""
    export = Export.objects.select_related("user").get(pk=export_id)
    if export.state == Export.State.DONE:
        return
    rows = export_queryset(export.user, export.feed, export.query)
    Export.objects.filter(pk=export.pk).update(state=Export.State.RUNNING,
                                               rows_expected=rows.count())
    name = f"{export.feed}-{export.pk}-{timezone.now():%Y%m%d-%H%M%S}.{export.format}"
    path = export_dir() / name
    partial = path.with_suffix(path.suffix + ".part")

    def progress(done: int) -> None:
        Export.objects.filter(pk=export.pk).update(rows_done=done)

    try:
        done = WRITERS[export.format](partial, export.feed, rows.iterator(chunk_size=CHUNK),
                                      progress)
        os.replace(partial, path)
    except Exception as exc:
        Export.objects.filter(pk=export.pk).update(state=Export.State.FAILED,
                                                   error=f"{type(exc).__name__}"[:300],
                                                   finished_at=timezone.now())
        partial.unlink(missing_ok=True)
        raise
    Export.objects.filter(pk=export.pk).update(
        state=Export.State.DONE, rows_done=done, file_name=name, finished_at=timezone.now()
    )


def export_path(export: Export) -> Path | None:
    if export.state != Export.State.DONE or not export.file_name:
        return None
    path = export_dir() / Path(export.file_name).name
    return path if path.exists() else None
