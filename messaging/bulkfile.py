"""Recipient files of bulk sends: CSV and XLSX read as a stream of rows, one row at a time.

Nothing here holds a whole file in memory:

- **CSV** is read through :mod:`csv` over a text stream. The encoding is decided from the first
  64 KiB (a UTF-8 or UTF-16 byte-order mark, else UTF-8 when that sample decodes, else
  Windows-1252, which is what Excel writes for "CSV" on most desktops); the delimiter likewise
  (``, ; TAB |``, as spreadsheets in different locales write them).
- **XLSX** is read with openpyxl in read-only mode, which parses the sheet XML as it goes.
  Numbers typed into Excel come back as ``14155550123`` (float) and are written back as their
  digits, never as ``1.4155550123E10``.

Rows are numbered as a spreadsheet numbers them (the header is row 1), so a bad-row report
points at the row a person sees in Excel. Blank rows are skipped.

A row becomes a :class:`Recipient` (number in international digits and the message text with
its ``{field}`` placeholders filled from the row's cells) or a :class:`BadRow` (row number,
value, reason). Duplicates within a file are bad rows too ("duplicate of row 7"): a number gets
one message. The stoplist is checked by the caller, a chunk of numbers at a time.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

from bearsms_portal.phone import InvalidNumber, normalize_number

FORMATS = ("csv", "xlsx")
SAMPLE_BYTES = 64 * 1024
DELIMITERS = ",;\t|"
_PLACEHOLDER = re.compile(r"\{([^{}\s]+)\}")
_NOT_NAME = re.compile(r"[^0-9a-z_]+")
_NUMBER_HEADERS = re.compile(r"(phone|mobile|msisdn|number|gsm|cell|tel|destination|^to$)")


class FileProblem(ValueError):
    """The file as a whole cannot be read (wrong type, broken archive, bad encoding)."""


def file_format(name: str) -> str:
    """``csv`` or ``xlsx`` from a file name; anything else is a :class:`FileProblem`."""
    suffix = Path(name or "").suffix.lower().lstrip(".")
    if suffix in ("csv", "txt", "tsv"):
        return "csv"
    if suffix == "xlsx":
        return "xlsx"
    if suffix == "xls":
        raise FileProblem("Old Excel files (.xls) cannot be read: save the sheet as .xlsx or CSV.")
    raise FileProblem("Upload a CSV file or an Excel workbook (.xlsx).")


# --- reading ----------------------------------------------------------------------------------


def read_rows(path: Path, fmt: str) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells as text) for every non-blank row of the file, header included."""
    rows = _csv_rows(path) if fmt == "csv" else _xlsx_rows(path)
    for number, cells in enumerate(rows, start=1):
        if any(cells):
            yield number, cells


def _csv_encoding(sample: bytes, *, whole: bool) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # a multi-byte character may be cut at the end of a partial sample
        if whole or exc.start < len(sample) - 3:
            return "cp1252"
    return "utf-8"


def _csv_dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    lines = text.splitlines()[:20]
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS)
    except csv.Error:
        return csv.excel  # a single column has no delimiter to find


def _csv_rows(path: Path) -> Iterator[list[str]]:
    with open(path, "rb") as raw:
        sample = raw.read(SAMPLE_BYTES)
    if b"\x00" in sample and not sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileProblem("This is not a text file: upload a CSV file or an .xlsx workbook.")
    encoding = _csv_encoding(sample, whole=len(sample) < SAMPLE_BYTES)
    dialect = _csv_dialect(sample.decode(encoding, errors="ignore"))
    with open(path, encoding=encoding, newline="") as handle:
        reader = csv.reader(handle, dialect)
        try:
            for cells in reader:
                yield [cell.strip() for cell in cells]
        except UnicodeDecodeError as exc:
            raise FileProblem(
                f"The file is not valid {encoding.upper()} text after row {reader.line_num}: "
                "save it again as CSV UTF-8."
            ) from exc
        except csv.Error as exc:
            raise FileProblem(f"Row {reader.line_num} cannot be read as CSV ({exc}).") from exc


def _xlsx_rows(path: Path) -> Iterator[list[str]]:
    from zipfile import BadZipFile

    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError) as exc:
        raise FileProblem("This is not an Excel workbook (.xlsx) that can be read.") from exc
    try:
        sheet = book.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [cell_text(v) for v in values]
    finally:
        book.close()


def cell_text(value) -> str:
    """A spreadsheet cell as the text a person sees (numbers without ``.0`` or exponent)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if value.time() != time() else f"{value:%Y-%m-%d}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


# --- columns and fields -----------------------------------------------------------------------


def field_name(header: str, position: int) -> str:
    """The ``{name}`` a column answers to: its header in lower case, ``_`` for the rest."""
    name = _NOT_NAME.sub("_", header.strip().lower()).strip("_")
    return name or f"column_{position + 1}"


def field_names(headers: list[str] | None, width: int) -> list[str]:
    """One unique field name per column (``column_N`` without a header)."""
    names: list[str] = []
    for position in range(width):
        header = headers[position] if headers and position < len(headers) else ""
        name = field_name(header, position)
        while name in names:
            name = f"{name}_{position + 1}"
        names.append(name)
    return names


def placeholders(text: str) -> list[str]:
    """The ``{name}`` fields a message text uses, in order, without repeats."""
    return list(dict.fromkeys(_PLACEHOLDER.findall(text or "")))


def fill(text: str, values: dict[str, str]) -> str:
    """The text with each known ``{name}`` replaced by the row's value (others stay as typed)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


@dataclass
class Sample:
    """What the mapping step shows: the first rows, and guesses for the header and number."""

    rows: list[tuple[int, list[str]]]
    width: int
    header: bool
    number_column: int

    def columns(self, header: bool | None = None) -> list[str]:
        header = self.header if header is None else header
        return field_names(self.rows[0][1] if header and self.rows else None, self.width)


def _looks_like_number(cell: str) -> bool:
    try:
        normalize_number(cell, "")
    except InvalidNumber:
        return False
    return True


def sample(path: Path, fmt: str, rows: int = 6) -> Sample:
    """The first ``rows`` non-blank rows, with a guess for the header and the number column."""
    first: list[tuple[int, list[str]]] = []
    for item in read_rows(path, fmt):
        first.append(item)
        if len(first) >= rows:
            break
    if not first:
        raise FileProblem("The file has no rows.")
    width = max(len(cells) for _, cells in first)
    top = first[0][1]
    body = first[1:] or first
    header = not any(_looks_like_number(c) for c in top) and any(
        _looks_like_number(c) for _, cells in body for c in cells
    )
    number_column = 0
    scores = [
        sum(_looks_like_number(cells[i]) for _, cells in body if i < len(cells))
        for i in range(width)
    ]
    if header:
        named = [i for i, h in enumerate(top) if _NUMBER_HEADERS.search(h.lower())]
        if named:
            number_column = max(named, key=lambda i: scores[i])
        elif any(scores):
            number_column = scores.index(max(scores))
    elif any(scores):
        number_column = scores.index(max(scores))
    return Sample(rows=first, width=width, header=header, number_column=number_column)


# --- checking rows ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Recipient:
    row: int
    number: str
    text: str


@dataclass(frozen=True, slots=True)
class BadRow:
    row: int
    value: str
    reason: str


@dataclass
class Mapping:
    """How a file is read: header or not, which column holds the number, the message text.

    ``read_number`` turns a cell into international digits or raises ``ValueError`` with the
    reason (the sending code's own rule, :func:`messaging.recipients.read_number`).
    """

    header: bool
    number_column: int
    text: str
    read_number: Callable[[str], str]


def check_rows(
    rows: Iterable[tuple[int, list[str]]], mapping: Mapping
) -> Iterator[Recipient | BadRow]:
    """Each data row as a :class:`Recipient` or a :class:`BadRow`, in file order.

    Memory grows only with the set of numbers already seen (for duplicates), a few dozen bytes
    a row; everything else is read and forgotten.
    """
    used = placeholders(mapping.text)
    names: list[str] | None = None
    seen: dict[str, int] = {}
    for number, cells in rows:
        if names is None:
            names = field_names(cells if mapping.header else None, len(cells))
            if mapping.header:
                continue
        if len(cells) > len(names):
            names = names + field_names(None, len(cells))[len(names) :]
        raw = cells[mapping.number_column] if mapping.number_column < len(cells) else ""
        if not raw:
            yield BadRow(number, "", "No number in the number column.")
            continue
        try:
            dst = mapping.read_number(raw)
        except ValueError as exc:
            yield BadRow(number, raw, f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
            continue
        first = seen.get(dst)
        if first is not None:
            yield BadRow(number, raw, f"Duplicate: the same number is on row {first}.")
            continue
        seen[dst] = number
        values = dict(zip(names, cells, strict=False))
        empty = [name for name in used if name in values and not values[name]]
        if empty:
            yield BadRow(number, raw, f"Empty field used in the text: {{{empty[0]}}}.")
            continue
        text = fill(mapping.text, values)
        if not text.strip():
            yield BadRow(number, raw, "The message is empty for this row.")
            continue
        yield Recipient(number, dst, text)


def unknown_fields(text: str, columns: list[str]) -> list[str]:
    """Placeholders in ``text`` that name no column (a typo the mapping form reports)."""
    return [name for name in placeholders(text) if name not in columns]
