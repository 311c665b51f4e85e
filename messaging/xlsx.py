"""A small, fast, streaming XLSX writer (Office Open XML SpreadsheetML, ECMA-376).

``write_xlsx(fileobj, header, rows)`` writes a workbook with one sheet — a bold, frozen header row
and then one row per item of ``rows`` — into any binary file object (a file on disk, a pipe,
a streaming buffer; it never seeks back), and returns the number of data rows written.
It is Django-free, and written for speed at constant memory:

- The sheet XML is streamed into a ZIP entry opened with ``force_zip64=True`` (the size is not
  known in advance) and deflated at level 1; rows are rendered into a small buffer that is
  flushed every ``_FLUSH_ROWS`` rows, so memory does not grow with the row count.
- Strings are *inline strings* (``t="inlineStr"``): no shared-strings table to hold in memory.
  Inline strings are never formulas, so text starting with ``=`` stays text.
- Rows are rendered 1,000 at a time, column by column: a column's types are checked with one
  ``set(map(type, …))``, its texts escaped together (one join, a few ``str.replace`` calls, one
  encode and one split), its datetimes turned into serial numbers with ``map``; then a single
  bytes ``%`` a row fills a template cached per tuple of column kinds. Almost no Python code runs
  per cell, which is what makes this ~10× faster than XlsxWriter (``bench/xlsx.py``).
- Cells carry no ``r="B7"`` reference (it is optional, ECMA-376 Part 1 §18.3.1.4: a cell
  without one is the next cell of its row; Excel, LibreOffice, openpyxl and current calamine
  read it so); rows keep their ``r``. References would add about a fifth to the bytes to build
  and deflate and slow the writer noticeably; a few strict readers (ClosedXML, EPPlus, old
  calamine) insist on them.

Cell values, by type:

- ``str`` (and subclasses): text. ``& < >`` are escaped; ``\\r`` is written as ``&#13;`` (an XML
  parser would turn it into ``\\n``); a literal ``_xHHHH_`` is protected as ``_x005F_xHHHH_``
  (ECMA-376 ST_Xstring escaping, which Excel decodes); characters that XML 1.0 forbids
  (control characters other than tab, newline and CR, lone surrogates, U+FFFE/U+FFFF) are
  removed; text longer than Excel's 32,767 characters a cell is cut there.
- ``int``: a number. Excel holds numbers as doubles, so integers beyond 2**53 lose precision.
- ``float`` / ``Decimal``: a number; NaN and infinities are written as text.
- ``bool``: a boolean cell.
- ``None``: an empty cell (``<c/>``, no value).
- ``datetime`` / ``date`` / ``time``: real Excel dates — serial numbers of the 1900 date system
  with a date style (``yyyy-mm-dd hh:mm:ss``, ``yyyy-mm-dd``, ``hh:mm:ss``), so they sort,
  filter and compute as dates (ISO text would not). Excel keeps milliseconds at best. An aware
  datetime is written as its wall-clock time in its own zone (Excel has no time zones): convert
  to the zone you want to show first. Dates before 1900-03-01 (where the 1900 system is
  ambiguous) are written as ISO text.
- anything else: ``str(value)`` as text.

Excel shows at most 1,048,576 rows a sheet: beyond that the rows continue on further sheets
(``Messages (2)``, …), each with the header row again, so nothing is ever dropped.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from itertools import islice, repeat
from operator import attrgetter, sub, truediv
from typing import IO, Any

__all__ = ["write_xlsx", "MAX_ROWS_PER_SHEET"]

#: Excel's limit: 1,048,576 rows a sheet, of which the first is the header
MAX_ROWS_PER_SHEET = 1_048_576 - 1
_MAX_COLUMNS = 16_384
_MAX_CELL_CHARS = 32_767
_FLUSH_ROWS = 1_000

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
_SHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

# Cell styles (indexes into cellXfs of styles.xml below)
_BOLD, _DATETIME, _DATE, _TIME = 1, 2, 3, 4

_STYLES = (
    _DECL + f'<styleSheet xmlns="{_MAIN_NS}">'
    '<numFmts count="2">'
    '<numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd"/>'
    "</numFmts>"
    '<fonts count="2">'
    '<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    "</fonts>"
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="21" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)

_ROOT_RELS = (
    _DECL + f'<Relationships xmlns="{_PKG_REL_NS}">'
    f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)

# Characters XML 1.0 does not allow (besides \x00, which _ILLEGAL_BUT_NUL leaves out: the row
# escaper uses it as its separator and notices it another way)
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ILLEGAL_BUT_NUL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Text that Excel would read as an ST_Xstring escape (_xHHHH_): its underscore gets escaped
_XESCAPE = re.compile("_(x[0-9A-Fa-f]{4}_)")
# Whitespace at either end of one of the texts joined by NULs
_EDGE_SPACE = re.compile("(?:^|\x00)\\s|\\s(?:\x00|$)")

_EPOCH = dt.datetime(1899, 12, 30)
_EPOCH_DATE = _EPOCH.date()
_FIRST_SAFE = dt.datetime(1900, 3, 1)  # the 1900 system is off by one (1900-02-29) before it
_DAY = dt.timedelta(days=1)


def _escape_joined(text: str) -> str:
    """XML-escape element text that is already free of illegal characters."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    if "_x" in text:
        text = _XESCAPE.sub(r"_x005F_\1", text)
    return text


def _clean(value: str) -> str:
    """One cell's text, cleaned and escaped (the slow path, for unusual text)."""
    if _ILLEGAL.search(value):
        value = _ILLEGAL.sub("", value)
    if len(value) > _MAX_CELL_CHARS:
        value = value[:_MAX_CELL_CHARS]
    return _escape_joined(value)


def _text_cell(value: str) -> str:
    """The attributes and content of an inline-string cell (after ``<c r="…"``)."""
    return f' t="inlineStr"><is><t xml:space="preserve">{_clean(value)}</t></is>'


def _datetime_cell(value: dt.datetime) -> str:
    if value.tzinfo is not None:
        value = value.replace(tzinfo=None)
    if value < _FIRST_SAFE:
        return _text_cell(value.isoformat())
    return f' s="{_DATETIME}"><v>{(value - _EPOCH) / _DAY!r}</v>'


def _date_cell(value: dt.date) -> str:
    if value < _FIRST_SAFE.date():
        return _text_cell(value.isoformat())
    return f' s="{_DATE}"><v>{(value - _EPOCH_DATE).days}</v>'


def _time_cell(value: dt.time) -> str:
    seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
    return f' s="{_TIME}"><v>{seconds / 86400!r}</v>'


def _float_cell(value: float) -> str:
    if math.isfinite(value):
        return f"><v>{value!r}</v>"
    return _text_cell(str(value))


def _decimal_cell(value: Decimal) -> str:
    if value.is_finite():
        return f"><v>{value}</v>"
    return _text_cell(str(value))


def _bool_cell(value: bool) -> str:
    return ' t="b"><v>1</v>' if value else ' t="b"><v>0</v>'


def _other_cell(value: Any) -> str:
    return _text_cell(str(value))


def _converter(kind: type) -> Callable[[Any], str] | None:
    """How a value of this type becomes a cell; None for text and ints (fast paths)."""
    if issubclass(kind, bool):
        return _bool_cell
    if issubclass(kind, dt.datetime):
        return _datetime_cell
    if issubclass(kind, dt.date):
        return _date_cell
    if issubclass(kind, dt.time):
        return _time_cell
    if issubclass(kind, float):
        return _float_cell
    if issubclass(kind, Decimal):
        return _decimal_cell
    if issubclass(kind, str | int):
        return None
    return _other_cell


def _column_letters(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA, …"""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


_NONE = type(None)
_UTC = dt.UTC
_EPOCH_UTC = _EPOCH.replace(tzinfo=_UTC)
_FIRST_SAFE_UTC = _FIRST_SAFE.replace(tzinfo=_UTC)
_FIRST_SAFE_DATE = _FIRST_SAFE.date()
_days = attrgetter("days")
_tzinfo = attrgetter("tzinfo")

# How a column of one chunk is written: the cell's XML around the %-placeholder of its value.
# Cells carry no ``r`` reference: it is optional (ECMA-376 Part 1 §18.3.1.4) and a cell without
# one is the next cell of its row, so every column writes a cell in every row (an empty ``<c/>``
# for None) — rows keep their ``r``.
_FRAGMENTS = {
    "text": b'<c t="inlineStr"><is><t>%s</t></is></c>',
    "spaced": b'<c t="inlineStr"><is><t xml:space="preserve">%s</t></is></c>',
    "number": b"<c><v>%d</v></c>",
    "float": b"<c><v>%r</v></c>",
    "bool": b'<c t="b"><v>%d</v></c>',
    "datetime": b'<c s="%d"><v>%%r</v></c>' % _DATETIME,
    "date": b'<c s="%d"><v>%%d</v></c>' % _DATE,
    "cell": b"<c%s</c>",  # the value is the cell's attributes and content, as bytes
    "empty": b"<c/>",  # no value
}


def _cell(value: Any) -> str:
    """A cell's attributes and content (after ``<c r="…"``), for columns of mixed types."""
    if value is None:
        return ">"
    if isinstance(value, str):
        return _text_cell(value)
    if type(value) is int:
        return f"><v>{value}</v>"
    convert = _converter(type(value))
    return _text_cell(str(value)) if convert is None else convert(value)


def _text_column(values: Sequence[str]) -> tuple[str, list[bytes]]:
    """A column of text, escaped together: one join, a few replaces, one split.

    ``xml:space="preserve"`` (without which Excel trims the text) is only written for columns
    where some text starts or ends with whitespace.
    """
    joined = "\x00".join(values)
    mode = "spaced" if _EDGE_SPACE.search(joined) else "text"
    if (
        _ILLEGAL_BUT_NUL.search(joined)
        or joined.count("\x00") != len(values) - 1
        or (len(joined) > _MAX_CELL_CHARS and max(map(len, values)) > _MAX_CELL_CHARS)
    ):
        return "spaced", [_clean(value).encode() for value in values]  # illegal chars, or long
    return mode, _escape_joined(joined).encode().split(b"\x00")


def _serials(values: Sequence[dt.datetime]) -> list[float] | None:
    """Excel serial numbers of datetimes, or None when some need the slow path."""
    zones = set(map(_tzinfo, values))
    if zones == {_UTC}:
        epoch, first = _EPOCH_UTC, _FIRST_SAFE_UTC
    else:
        if zones != {None}:  # wall-clock time in each value's own zone
            values = [value.replace(tzinfo=None) for value in values]
        epoch, first = _EPOCH, _FIRST_SAFE
    if min(values) < first:
        return None
    return list(map(truediv, map(sub, values, repeat(epoch)), repeat(_DAY)))


def _column(values: Sequence) -> tuple[str, Sequence | None]:
    """How one column of a chunk is written, and the values to put in its cells."""
    kinds = set(map(type, values))
    if len(kinds) == 1:
        kind = kinds.pop()
        if kind is str:
            return _text_column(values)
        if kind is int:
            return "number", values
        if kind is dt.datetime:
            serials = _serials(values)
            if serials is not None:
                return "datetime", serials
        elif kind is dt.date:
            if min(values) >= _FIRST_SAFE_DATE:
                return "date", list(map(_days, map(sub, values, repeat(_EPOCH_DATE))))
        elif kind is bool:
            return "bool", values
        elif kind is float:
            if all(map(math.isfinite, values)):
                return "float", values
        elif kind is _NONE:
            return "empty", None
    return "cell", [_cell(value).encode() for value in values]


class _SheetWriter:
    def __init__(self, header: Sequence[str]):
        self.header = list(header)
        self.templates: dict[tuple[str, ...], Callable[[tuple], bytes]] = {}

    def _template(self, modes: tuple[str, ...]) -> Callable[[tuple], bytes]:
        if len(modes) > _MAX_COLUMNS:
            raise ValueError(f"XLSX sheets hold at most {_MAX_COLUMNS} columns")
        cells = b"".join(_FRAGMENTS[mode] for mode in modes)
        return (b'<row r="%d">' + cells + b"</row>").__mod__

    def render(self, first_number: int, chunk: list[Sequence]) -> bytes:
        """The XML (UTF-8) of a chunk of rows, the first of them on sheet row ``first_number``.

        Column by column: each column's values are checked and converted together (mostly in
        C: ``set(map(type, …))``, one join/escape/encode/split for text, ``map`` for dates),
        then one bytes ``%`` a row puts them into a template cached per tuple of column kinds.
        """
        widths = set(map(len, chunk))
        if len(widths) > 1:  # ragged rows: pad with empty cells
            width = max(widths)
            chunk = [tuple(row) + (None,) * (width - len(row)) for row in chunk]
        columns = [_column(values) for values in zip(*chunk, strict=True)]
        modes = tuple(mode for mode, _ in columns)
        template = self.templates.get(modes)
        if template is None:
            template = self.templates[modes] = self._template(modes)
        numbers = range(first_number, first_number + len(chunk))
        values = [values for _, values in columns if values is not None]
        return b"".join(map(template, zip(numbers, *values, strict=True)))

    def start(self, first: Sequence | None) -> str:
        """The sheet's opening XML: frozen header pane, column widths, the header row."""
        widths = []
        for index, title in enumerate(self.header):
            width = len(str(title))
            value = first[index] if first is not None and index < len(first) else None
            if isinstance(value, dt.datetime):
                width = max(width, 19)
            elif isinstance(value, dt.date):
                width = max(width, 10)
            elif value is not None:
                width = max(width, min(len(str(value)), 50))
            widths.append(
                f'<col min="{index + 1}" max="{index + 1}" '
                f'width="{min(width + 2, 60)}" customWidth="1"/>'
            )
        cols = f"<cols>{''.join(widths)}</cols>" if widths else ""
        header = "".join(
            f'<c r="{_column_letters(i)}1" s="{_BOLD}" t="inlineStr"><is><t xml:space="preserve">'
            f"{_clean(str(title))}</t></is></c>"
            for i, title in enumerate(self.header)
        )
        return (
            _DECL + f'<worksheet xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
            '<sheetViews><sheetView workbookViewId="0">'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
            "</sheetView></sheetViews>"
            f'<sheetFormatPr defaultRowHeight="15"/>{cols}'
            f'<sheetData><row r="1">{header}</row>'
        )


_SHEET_END = "</sheetData></worksheet>"


def _sheet_names(base: str, count: int) -> list[str]:
    """Valid, distinct sheet names: ≤ 31 characters, none of []:*?/\\, no edge apostrophes."""
    base = re.sub(r"[\[\]:*?/\\]", " ", _ILLEGAL.sub("", base)).strip("'").strip() or "Sheet"
    names = [base[:31]]
    for number in range(2, count + 1):
        suffix = f" ({number})"
        names.append(base[: 31 - len(suffix)].rstrip("'") + suffix)
    return names


def _attr(value: str) -> str:
    return _escape_joined(value).replace('"', "&quot;")


def write_xlsx(
    fileobj: IO[bytes] | str,
    header: Sequence[str],
    rows: Iterable[Sequence],
    sheet_name: str = "Messages",
    on_progress: Callable[[int], Any] | None = None,
    progress_every: int = 10_000,
    *,
    compresslevel: int = 1,
) -> int:
    """Write ``header`` and ``rows`` as an XLSX workbook to ``fileobj``; return the rows written.

    ``fileobj`` is a binary file object open for writing (or a path). ``on_progress(done)`` is
    called every ``progress_every`` rows. See the module's documentation for the cell types.
    """
    sheet = _SheetWriter(header)
    rows = iter(rows)
    done = 0
    sheets = 0
    next_progress = progress_every if on_progress and progress_every > 0 else -1
    with zipfile.ZipFile(
        fileobj, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel
    ) as zf:
        first = next(rows, None)
        while sheets == 0 or first is not None:
            sheets += 1
            with zf.open(f"xl/worksheets/sheet{sheets}.xml", "w", force_zip64=True) as out:
                out.write(sheet.start(first).encode())
                number = 1  # the header row
                room = MAX_ROWS_PER_SHEET
                while room > 0:
                    size = min(_FLUSH_ROWS, room)
                    if next_progress > 0:  # chunks end where progress is due
                        size = min(size, next_progress - done)
                    if first is not None:
                        chunk = [first, *islice(rows, size - 1)]
                        first = None
                    else:
                        chunk = list(islice(rows, size))
                    if not chunk:
                        break
                    out.write(sheet.render(number + 1, chunk))
                    number += len(chunk)
                    room -= len(chunk)
                    done += len(chunk)
                    if next_progress > 0 and done >= next_progress:
                        on_progress(done)
                        next_progress = (done // progress_every + 1) * progress_every
                out.write(_SHEET_END.encode())
            first = next(rows, None)
        names = _sheet_names(sheet_name, sheets)
        _write_package(zf, names)
    if on_progress and (progress_every <= 0 or done % progress_every):
        on_progress(done)
    return done


def _write_package(zf: zipfile.ZipFile, names: list[str]) -> None:
    """Everything but the sheets: content types, relationships, workbook, styles."""
    count = len(names)
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{_SHEET_CT}"/>'
        for n in range(1, count + 1)
    )
    zf.writestr(
        "[Content_Types].xml",
        (
            _DECL + f'<Types xmlns="{_CT_NS}">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f"{overrides}</Types>"
        ),
    )
    zf.writestr("_rels/.rels", _ROOT_RELS)
    sheets = "".join(
        f'<sheet name="{_attr(name)}" sheetId="{n}" r:id="rId{n}"/>'
        for n, name in enumerate(names, 1)
    )
    zf.writestr(
        "xl/workbook.xml",
        (
            _DECL + f'<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
            f"<bookViews><workbookView/></bookViews><sheets>{sheets}</sheets></workbook>"
        ),
    )
    rels = "".join(
        f'<Relationship Id="rId{n}" Type="{_REL_NS}/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, count + 1)
    )
    zf.writestr(
        "xl/_rels/workbook.xml.rels",
        (
            _DECL + f'<Relationships xmlns="{_PKG_REL_NS}">{rels}'
            f'<Relationship Id="rId{count + 1}" Type="{_REL_NS}/styles" Target="styles.xml"/>'
            "</Relationships>"
        ),
    )
    zf.writestr("xl/styles.xml", _STYLES)
