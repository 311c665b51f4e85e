"""CSV and XLSX exports of a filtered, scoped message list.

- Small exports stream straight to the browser: CSV written by PostgreSQL itself (``COPY …
  TO STDOUT`` of the same scoped, filtered query; elsewhere Python's csv module over a
  server-side cursor), XLSX through :mod:`messaging.xlsx`, which streams the sheet into the
  zip as rows arrive (memory stays flat), and then out as a file.
- Exports bigger than ``EXPORT_INLINE_MAX_ROWS`` (XLSX: ``EXPORT_INLINE_MAX_XLSX_ROWS``) run as a
  Celery task that writes the file under
  ``MEDIA_ROOT/exports/``, reports progress on its :class:`~messaging.models.Export` row, and is
  downloaded from the export's page. No size cap either way.

Rows come from :func:`messaging.selectors.export_rows` only, so an export shows exactly what
the list shows; the background export itself is :mod:`messaging.services.exports`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import QuerySet
from django.utils import timezone

from accounts.zones import zone_label
from bearsms_portal.csvfile import FORMULA_STARTS, SafeWriter

from .models import DELIVERY_STATUS_CHOICES, Export, Feed

_STATUS = dict(DELIVERY_STATUS_CHOICES)
CHUNK = 5000

COLUMNS = {
    Feed.OUTGOING: [
        ("Id", "smslog_id"),
        ("Account", "account__username"),
        ("Time", "dispatched_at"),
        ("Sender", "src"),
        ("Destination", "dst"),
        ("Status", "status"),
        ("Status changed", "status_changed_at"),
        ("Text", "text"),
    ],
    Feed.INCOMING: [
        ("Id", "server_id"),
        ("Account", "account__username"),
        ("Time", "received_at"),
        ("Sender", "src"),
        ("Receiving number", "dst"),
        ("Keyword", "keyword"),
        ("Text", "text"),
    ],
    Feed.INBOX: [
        ("Id", "server_id"),
        ("Account", "account__username"),
        ("Time", "received_at"),
        ("Sender", "src"),
        ("Destination", "dst"),
        ("Text", "text"),
    ],
    Feed.SANDBOX: [
        ("Id", "server_id"),
        ("Time", "received_at"),
        ("Sender", "src"),
        ("Receiving number", "dst"),
        ("Text", "text"),
    ],
}


def titles(feed: str, zone) -> list[str]:
    """The header row: time columns name the zone their values are in, e.g. ``Time in
    Asia/Jakarta (UTC+07:00)``."""
    label = zone_label(zone)
    return [
        f"{title} in {label}" if name.endswith("_at") else title for title, name in COLUMNS[feed]
    ]


def _cells_query(feed: str, rows: QuerySet) -> QuerySet:
    """The export's columns of ``rows`` (an :func:`~messaging.selectors.export_rows` query)."""
    return rows.select_related(None).values_list(*(f for _, f in COLUMNS[feed]))


def _stamp_formatter(zone):
    """Datetime → text; a plain strftime when the zone is UTC (the rows come in UTC)."""
    if zone.key == "UTC":
        return lambda v: v.strftime("%Y-%m-%d %H:%M:%S") if v else ""
    return lambda v: timezone.localtime(v, zone).strftime("%Y-%m-%d %H:%M:%S") if v else ""


def _formatter(feed: str, *, for_csv: bool, zone):
    """A function turning one value tuple into the cells of one exported row."""
    stamp = _stamp_formatter(zone)

    def local_time(value):
        return timezone.localtime(value, zone) if value is not None else None

    kinds = []
    for _, name in COLUMNS[feed]:
        if name == "status":
            kinds.append(lambda v: _STATUS.get(v, v))
        elif name.endswith("_at"):  # XLSX: real dates in the portal's zone, sortable in Excel
            kinds.append(stamp if for_csv else local_time)
        else:
            kinds.append(None)  # ids and text as they are (the CSV writer makes text safe)

    def cells(row: tuple) -> list:
        return [v if kind is None else kind(v) for kind, v in zip(kinds, row, strict=True)]

    return cells


def _chunks(rows, size: int = 2000):
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def csv_stream(feed: str, rows: QuerySet, progress=None) -> Iterator[bytes]:
    """The CSV file (UTF-8 with a BOM for Excel, a header row) in chunks of bytes, its times in
    the zone active at the call (the user's): read now, as the file streams after the request.

    On PostgreSQL the database writes the CSV itself (``COPY (…) TO STDOUT``) from the same
    scoped, filtered query; elsewhere Python's csv module does, 2,000 rows at a time.
    """
    return _csv_chunks(feed, rows, progress, timezone.get_current_timezone())


def _csv_chunks(feed: str, rows: QuerySet, progress, zone) -> Iterator[bytes]:
    rows = _cells_query(feed, rows)
    writer = SafeWriter()
    yield ("\ufeff" + writer.row(titles(feed, zone))).encode()
    if connection.vendor == "postgresql":
        yield from _copy_csv(feed, rows, progress, zone)
        return
    cells = _formatter(feed, for_csv=True, zone=zone)
    done = 0
    for chunk in _chunks(rows.iterator(chunk_size=CHUNK)):
        text = writer.rows(map(cells, chunk))
        done += len(chunk)
        if progress and done % CHUNK < len(chunk):
            progress(done)
        yield text.encode()


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


#: SQL: csvfile.FORMULA_STARTS (tab and CR as chr())
_FORMULA_STARTS = ", ".join(
    _quote(ch) if ch.isprintable() else f"chr({ord(ch)})" for ch in FORMULA_STARTS
)


def _export_select(feed: str, rows: QuerySet, *, for_csv: bool, zone) -> tuple[str, list]:
    """The export's SELECT over the scoped, filtered query, with every cell computed by
    PostgreSQL: status labels, times in ``zone`` (text for CSV, timestamps for XLSX)
    and, for CSV, text neutralised against spreadsheet formulas (CSV injection)."""
    inner, inner_params = rows.query.sql_with_params()
    columns, params = [], []
    status_case = " ".join(
        f"WHEN {value} THEN {_quote(str(label))}" for value, label in _STATUS.items()
    )
    for _, name in COLUMNS[feed]:
        col = f'e."{name}"'
        if name == "status":
            columns.append(f"CASE {col} {status_case} ELSE {col}::text END")
        elif name.endswith("_at"):
            local = f"({col} AT TIME ZONE %s)"
            columns.append(f"to_char({local}, 'YYYY-MM-DD HH24:MI:SS')" if for_csv else local)
            params.append(zone.key)
        elif name in ("smslog_id", "server_id") or not for_csv:
            columns.append(col)  # XLSX text is an inline string: never read as a formula
        else:
            columns.append(
                f"CASE WHEN left({col}, 1) IN ({_FORMULA_STARTS}) "
                f"THEN {_quote(chr(39))} || {col} ELSE {col} END"
            )
    # identifiers and constants are ours; the filter values stay parameters
    sql = f"SELECT {', '.join(columns)} FROM ({inner}) AS e"  # noqa: S608
    return sql, [*params, *inner_params]


def _select_rows(feed: str, rows: QuerySet, zone) -> Iterator[tuple]:
    """XLSX cells straight from a server-side cursor on a connection of its own (the default
    one stays free for progress updates); no ORM objects, no per-cell Python formatting."""
    sql, params = _export_select(feed, rows, for_csv=False, zone=zone)
    reader = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        reader.ensure_connection()
        raw = reader.connection
        with raw.transaction(), raw.cursor(name="bearsms_export") as cursor:
            cursor.itersize = CHUNK
            cursor.execute(sql, params)
            yield from cursor
    finally:
        reader.close()


def _copy_csv(feed: str, rows: QuerySet, progress, zone) -> Iterator[bytes]:
    select, params = _export_select(feed, rows, for_csv=True, zone=zone)
    sql = f"COPY ({select}) TO STDOUT (FORMAT csv)"
    lines = 0
    # A connection of its own: the default one stays free for progress updates meanwhile
    # (nothing else may run on a connection while it is in COPY).
    copier = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with copier.cursor() as cursor, cursor.cursor.copy(sql, params) as copy:
            for block in copy:
                data = bytes(block)
                if progress:
                    before, lines = lines, lines + data.count(b"\n")
                    if lines // CHUNK != before // CHUNK:
                        progress(lines)
                yield data
    finally:
        copier.close()


def write_csv(path: Path, feed: str, rows: QuerySet, progress=None) -> None:
    with open(path, "wb") as handle:
        for data in csv_stream(feed, rows, progress):
            handle.write(data)


def write_xlsx(path: Path, feed: str, rows: QuerySet, progress=None) -> None:
    # messaging.xlsx streams the sheet straight into the zip: ~9x XlsxWriter's rate, flat memory
    # (bench/xlsx.py). Inline strings are never formulas, so no formula neutralising is needed.
    from .xlsx import write_xlsx as stream_xlsx

    rows = _cells_query(feed, rows)
    zone = timezone.get_current_timezone()
    if connection.vendor == "postgresql":
        cells = _select_rows(feed, rows, zone)
    else:
        cells = map(_formatter(feed, for_csv=False, zone=zone), rows.iterator(chunk_size=CHUNK))
    with open(path, "wb") as handle:
        stream_xlsx(
            handle,
            titles(feed, zone),
            cells,
            sheet_name=str(dict(Feed.choices)[feed]),
            on_progress=progress,
            progress_every=CHUNK,
        )


WRITERS = {Export.Format.CSV: write_csv, Export.Format.XLSX: write_xlsx}


def export_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_path(export: Export) -> Path | None:
    if export.state != Export.State.DONE or not export.file_name:
        return None
    path = export_dir() / Path(export.file_name).name
    return path if path.exists() else None
