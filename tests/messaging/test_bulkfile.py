"""Recipient files: streaming CSV/XLSX reading, the guesses of the mapping step, row checks."""

from __future__ import annotations

import codecs
import tracemalloc

import openpyxl
import pytest

from messaging import bulkfile
from messaging.bulkfile import BadRow, FileProblem, Mapping, Recipient
from messaging.recipients import read_number


def _write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _xlsx(tmp_path, rows, name="list.xlsx"):
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    for row in rows:
        sheet.append(row)
    path = tmp_path / name
    book.save(path)
    return path


def test_file_format_from_name():
    assert bulkfile.file_format("Numbers.CSV") == "csv"
    assert bulkfile.file_format("list.xlsx") == "xlsx"
    with pytest.raises(FileProblem, match=r"\.xls"):
        bulkfile.file_format("old.xls")
    with pytest.raises(FileProblem):
        bulkfile.file_format("photo.png")


@pytest.mark.parametrize(
    ("data", "delimiter"),
    [
        (b"number,name\n14155550123,Ann\n", ","),
        (b"number;name\n14155550123;Ann\n", ";"),
        (b"number\tname\n14155550123\tAnn\n", "\t"),
    ],
)
def test_csv_delimiters(tmp_path, data, delimiter):
    rows = list(bulkfile.read_rows(_write(tmp_path, "a.csv", data), "csv"))
    assert rows == [(1, ["number", "name"]), (2, ["14155550123", "Ann"])], delimiter


def test_csv_encodings(tmp_path):
    text = "number,name\n14155550123,Zoë\n"
    for encoding, data in [
        ("utf-8-sig", codecs.BOM_UTF8 + text.encode()),
        ("utf-8", text.encode()),
        ("cp1252", text.encode("cp1252")),
        ("utf-16", text.encode("utf-16")),
    ]:
        rows = list(bulkfile.read_rows(_write(tmp_path, "a.csv", data), "csv"))
        assert rows[0] == (1, ["number", "name"]), encoding
        assert rows[1] == (2, ["14155550123", "Zoë"]), encoding


def test_csv_rows_are_numbered_as_a_spreadsheet_shows_them(tmp_path):
    data = b'number,note\n14155550123,"two\nlines"\n\n14155550124,x\n'
    rows = list(bulkfile.read_rows(_write(tmp_path, "a.csv", data), "csv"))
    assert [n for n, _ in rows] == [1, 2, 4]  # a blank record is row 3, skipped


def test_binary_file_posing_as_csv_is_refused(tmp_path):
    path = _write(tmp_path, "a.csv", b"PK\x03\x04\x00\x00garbage")
    with pytest.raises(FileProblem):
        list(bulkfile.read_rows(path, "csv"))


def test_xlsx_numbers_come_back_as_digits(tmp_path):
    path = _xlsx(tmp_path, [["Mobile", "Name", "Due"], [14155550123, "Ann", 12.5], [None, None]])
    rows = list(bulkfile.read_rows(path, "xlsx"))
    assert rows == [(1, ["Mobile", "Name", "Due"]), (2, ["14155550123", "Ann", "12.5"])]


def test_broken_xlsx_is_a_file_problem(tmp_path):
    with pytest.raises(FileProblem):
        list(bulkfile.read_rows(_write(tmp_path, "a.xlsx", b"not a zip"), "xlsx"))


def test_sample_guesses_header_and_number_column(tmp_path):
    path = _write(tmp_path, "a.csv", b"name,Phone number,city\nAnn,+14155550123,Oslo\n")
    sample = bulkfile.sample(path, "csv")
    assert sample.header is True and sample.number_column == 1
    assert sample.columns() == ["name", "phone_number", "city"]
    path = _write(tmp_path, "b.csv", b"Ann,14155550123\nBob,14155550124\n")
    sample = bulkfile.sample(path, "csv")
    assert sample.header is False and sample.number_column == 1
    assert sample.columns() == ["column_1", "column_2"]


def test_field_names_are_unique_identifiers():
    assert bulkfile.field_names(["First Name", "first name", ""], 4) == [
        "first_name",
        "first_name_2",
        "column_3",
        "column_4",
    ]


def test_fill_and_unknown_fields():
    assert bulkfile.fill("Hi {name}, {x}", {"name": "Ann"}) == "Hi Ann, {x}"
    assert bulkfile.unknown_fields("Hi {name} {nmae}", ["name", "number"]) == ["nmae"]


def test_check_rows_reports_each_bad_row_with_its_reason():
    rows = [
        (1, ["number", "name"]),
        (2, ["14155550123", "Ann"]),
        (3, ["", "Nobody"]),
        (4, ["not-a-number", "Bob"]),
        (5, ["+1 415 555 0123", "Ann again"]),
        (6, ["14155550199", ""]),
        (7, ["14155550100", "Stopped"]),
        (9, ["(415) 555-0124", "Cy"]),
    ]
    mapping = Mapping(
        header=True,
        number_column=0,
        text="Hello {name}",
        read_number=lambda raw: read_number("".join(raw.split()), "US"),
    )
    results = list(bulkfile.check_rows(rows, mapping))
    assert results == [
        Recipient(2, "14155550123", "Hello Ann"),
        BadRow(3, "", "No number in the number column."),
        BadRow(4, "not-a-number", "Not a phone number."),
        BadRow(5, "+1 415 555 0123", "Duplicate: the same number is on row 2."),
        BadRow(6, "14155550199", "Empty field used in the text: {name}."),
        Recipient(7, "14155550100", "Hello Stopped"),
        Recipient(9, "14155550124", "Hello Cy"),
    ]


def test_reading_a_large_csv_keeps_memory_flat(tmp_path):
    path = tmp_path / "big.csv"
    with open(path, "w") as handle:
        handle.write("number,name,note\n")
        for i in range(100_000):
            handle.write(f"1415{i:07d},Person {i},{'x' * 100}\n")
    assert path.stat().st_size > 10_000_000
    tracemalloc.start()
    try:
        count = sum(1 for _ in bulkfile.read_rows(path, "csv"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 100_001
    assert peak < 2_000_000, f"reading held {peak:,} bytes"
