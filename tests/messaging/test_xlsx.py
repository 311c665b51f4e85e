"""The streaming XLSX writer (messaging.xlsx): files open in openpyxl, values round-trip."""

from __future__ import annotations

import datetime as dt
import io
import tracemalloc
import zipfile
from decimal import Decimal
from xml.etree import ElementTree

import openpyxl
import pytest

from messaging import xlsx
from messaging.xlsx import write_xlsx

HEADER = ["Id", "Text", "Time", "Count"]


def _write(header, rows, **kwargs) -> tuple[bytes, int]:
    buffer = io.BytesIO()
    count = write_xlsx(buffer, header, rows, **kwargs)
    return buffer.getvalue(), count


def _read(data: bytes, sheet: int = 0) -> list[tuple]:
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    return list(workbook.worksheets[sheet].iter_rows(values_only=True))


def test_values_round_trip():
    naive = dt.datetime(2026, 11, 28, 11, 22, 33)
    rows = [
        (1, "<script>alert('x')</script> & \"quoted\" 'single'", naive, 42),
        (2, "emoji 😀🐻 unicode ñ ü 中文 ㅎ", naive.replace(tzinfo=dt.UTC), -7),
        (3, "line one\nline two\r\nthree\ttabbed", dt.date(2026, 1, 2), 0),
        (4, "bell\x07 nul\x00 esc\x1b vt\x0b ff\x0c del-ok\x7f end", None, None),
        (
            5,
            "  padded  ",
            dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=7))),
            10**12,
        ),
        (6, "", dt.datetime(2026, 3, 1, 23, 59, 59, 500000), 1),
        (7, None, None, 3),
    ]
    data, count = _write(HEADER, rows)
    assert count == len(rows)
    got = _read(data)
    assert got[0] == tuple(HEADER)
    body = got[1:]
    assert len(body) == len(rows)
    assert body[0] == (1, "<script>alert('x')</script> & \"quoted\" 'single'", naive, 42)
    assert body[1] == (2, "emoji 😀🐻 unicode ñ ü 中文 ㅎ", naive, -7)  # wall clock, zone dropped
    assert body[2] == (3, "line one\nline two\r\nthree\ttabbed", dt.datetime(2026, 1, 2), 0)
    assert body[3] == (4, "bell nul esc vt ff del-ok\x7f end", None, None)
    assert body[4] == (5, "  padded  ", dt.datetime(2026, 3, 1, 9, 30), 10**12)
    assert body[5][0] == 6 and body[5][1] in ("", None)
    assert body[5][2] == dt.datetime(2026, 3, 1, 23, 59, 59, 500000)  # Excel keeps milliseconds
    assert body[6] == (7, None, None, 3)


def test_dates_are_real_excel_dates_with_a_date_style():
    data, _ = _write(["When"], [(dt.datetime(2026, 11, 28, 12, 0),), (dt.date(2026, 11, 28),)])
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet["A2"].is_date and sheet["A2"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert sheet["A3"].is_date and sheet["A3"].number_format == "yyyy-mm-dd"
    xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<v>46354.5</v>" in xml  # days since 1899-12-30


def test_other_value_types():
    rows = [
        (True, 1.25, Decimal("3.50"), float("nan"), dt.time(6, 30), b"raw", dt.date(1899, 1, 2))
    ]
    got = _read(_write(list("ABCDEFG"), rows)[0])[1]
    assert got[0] is True and got[1] == 1.25 and got[2] == 3.5
    assert got[3] == "nan"  # not a number Excel can hold: written as text
    assert got[4] == dt.time(6, 30)
    assert got[5] == "b'raw'"
    assert got[6] == "1899-01-02"  # before 1900-03-01: ISO text


def test_mixed_and_ragged_columns():
    rows = [(1, "a"), ("two", 2, "extra"), (None,), (dt.datetime(2026, 1, 1), None, 3.5)]
    got = _read(_write(["X", "Y", "Z"], rows)[0])
    assert got[1:] == [
        (1, "a", None),
        ("two", 2, "extra"),
        (None, None, None),
        (dt.datetime(2026, 1, 1), None, 3.5),
    ]


def test_markup_is_escaped_in_the_xml():
    data, _ = _write(["<h>&"], [("<script>alert(1)</script>", "a & b > c", "x_x0041_y")])
    archive = zipfile.ZipFile(io.BytesIO(data))
    xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<script>" not in xml
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in xml
    assert "a &amp; b &gt; c" in xml
    assert "&lt;h&gt;&amp;" in xml
    # a literal _xHHHH_ is protected from Excel's ST_Xstring decoding
    assert "x_x005F_x0041_y" in xml
    for name in archive.namelist():  # every part is well-formed XML
        ElementTree.fromstring(archive.read(name))  # noqa: S314 (our own output)


def test_a_text_column_with_one_bad_value_keeps_the_others():
    rows = [("fine & dandy",), ("nul\x00inside",), ("surrogate \ud800 gone",), ("ok",)]
    got = _read(_write(["T"], rows)[0])
    assert [r[0] for r in got[1:]] == ["fine & dandy", "nulinside", "surrogate  gone", "ok"]


def test_text_longer_than_excel_allows_is_cut():
    got = _read(_write(["T"], [("x" * 40_000,), ("short",)])[0])
    assert len(got[1][0]) == 32_767 and got[2][0] == "short"


def test_header_is_bold_and_frozen():
    data, _ = _write(HEADER, [(1, "a", None, 2)], sheet_name="Outgoing")
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    sheet = workbook.active
    assert workbook.sheetnames == ["Outgoing"]
    assert [cell.value for cell in sheet[1]] == HEADER
    assert all(cell.font.b for cell in sheet[1])
    assert not sheet["A2"].font.b
    assert sheet.freeze_panes == "A2"


def test_sheet_name_is_made_valid():
    data, _ = _write(["A"], [], sheet_name="In/Out: [all] messages of the whole year")
    (name,) = openpyxl.load_workbook(io.BytesIO(data)).sheetnames
    assert len(name) <= 31 and not set(name) & set("[]:*?/\\")


def test_zero_rows():
    data, count = _write(HEADER, [])
    assert count == 0
    assert _read(data) == [tuple(HEADER)]


def test_progress_callback():
    calls = []
    _, count = _write(
        ["N"], ((i,) for i in range(25_000)), on_progress=calls.append, progress_every=10_000
    )
    assert count == 25_000
    assert calls == [10_000, 20_000, 25_000]


class _WriteOnly:
    """A non-seekable binary stream (like a response or a pipe)."""

    def __init__(self):
        self.parts: list[bytes] = []

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self):
        pass


def test_writes_to_a_non_seekable_stream():
    stream = _WriteOnly()
    assert write_xlsx(stream, HEADER, [(1, "hello", None, 2)]) == 1
    assert _read(b"".join(stream.parts))[1] == (1, "hello", None, 2)


def test_rows_beyond_the_sheet_limit_continue_on_another_sheet(monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_ROWS_PER_SHEET", 3)
    data, count = _write(["N"], ((i,) for i in range(7)))
    assert count == 7
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["Messages", "Messages (2)", "Messages (3)"]
    values = [[r[0] for r in sheet.iter_rows(values_only=True)] for sheet in workbook.worksheets]
    assert values == [["N", 0, 1, 2], ["N", 3, 4, 5], ["N", 6]]


def _generated(count: int):
    base = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    for i in range(count):
        when = base + dt.timedelta(seconds=i)
        yield (
            i,
            f"acct{i % 50}",
            when,
            "BearSMS",
            f"62812{i:07d}",
            "Delivered",
            when,
            f"Your code is {i % 9973} <b>&</b> 😀",
            1 + i % 3,
            f"sub{i % 7}",
        )


@pytest.mark.slow
def test_large_export_streams_in_flat_memory(tmp_path):
    count = 200_000
    path = tmp_path / "big.xlsx"
    tracemalloc.start()
    try:
        with open(path, "wb") as handle:
            written = write_xlsx(handle, [f"c{i}" for i in range(10)], _generated(count))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert written == count
    assert peak < 8 * 1024 * 1024, f"peak traced memory {peak / 1e6:.1f} MB"
    # the sheet holds the header and every row, the last one complete
    with zipfile.ZipFile(path) as archive, archive.open("xl/worksheets/sheet1.xml") as sheet:
        rows, tail = 0, b""
        while block := sheet.read(1 << 20):
            rows += (tail + block).count(b"</row>") - tail.count(b"</row>")
            tail = block[-64:]
        assert rows == count + 1
        assert tail.endswith(b"</sheetData></worksheet>")
    sheet = openpyxl.load_workbook(path, read_only=True).active
    first = next(sheet.iter_rows(min_row=2, max_row=2, values_only=True))
    assert first[:3] == (0, "acct0", dt.datetime(2026, 11, 1))
