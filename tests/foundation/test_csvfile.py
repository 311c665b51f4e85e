"""The one CSV writer: every cell a spreadsheet would read as a formula is written as text."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from bearsms_portal.csvfile import (
    FORMULA_STARTS,
    SafeWriter,
    csv_lines,
    ending_with_error_line,
    safe_cell,
)


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_text_starting_like_a_formula_gets_an_apostrophe(start):
    assert safe_cell(f"{start}HYPERLINK(1)") == f"'{start}HYPERLINK(1)"


def test_the_formula_starts_are_the_known_ones():
    assert set(FORMULA_STARTS) == {"=", "+", "-", "@", "\t", "\r"}


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (-5, -5),
        (Decimal("-2.5"), Decimal("-2.5")),
        (7, 7),
        (" =x", " =x"),
    ],
)
def test_other_cells_are_left_alone(value, cell):
    assert safe_cell(value) == cell


def test_writer_and_lines_round_trip():
    writer = SafeWriter()
    assert writer.row(["=1+1", "ok", None, -3]) == "'=1+1,ok,,-3\n"
    assert writer.rows([["@a"], ["b\nc"]]) == '\'@a\n"b\nc"\n'
    body = b"".join(csv_lines(["name", "amount"], [["-cmd", Decimal("-1")], ["+62812", 2]]))
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows == [["name", "amount"], ["'-cmd", "-1"], ["'+62812", "2"]]


def test_a_stream_that_fails_midway_ends_with_an_error_line():
    def rows():
        yield ["a", 1]
        yield ["b", 2]
        raise ConnectionError("the database went away")

    body = b"".join(ending_with_error_line(csv_lines(["name", "n"], rows()))).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(body)))
    assert lines[:3] == [["name", "n"], ["a", "1"], ["b", "2"]]
    assert len(lines) == 4 and len(lines[3]) == 1
    assert lines[3][0].startswith("ERROR: this export stopped after 3 lines")
    assert "ConnectionError" in lines[3][0] and "incomplete" in lines[3][0]
    assert "database went away" not in body  # the class only: no detail leaks into files


def test_a_stream_that_finishes_has_no_error_line():
    body = b"".join(ending_with_error_line(csv_lines(["x"], [["1"]])))
    assert b"ERROR" not in body and body.decode("utf-8-sig") == "x\n1\n"
