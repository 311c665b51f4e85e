"""Micro-benchmark: XLSX export rows/s, XlsxWriter (constant_memory) vs messaging.xlsx.

Both writers get the same generated rows (10 columns: ints, short strings, two datetimes, an
SMS text with markup) and write a file on disk; the XlsxWriter figure is the baseline of the
same run. Run by hand: ``.venv/bin/python bench/xlsx.py [ROWS]`` (default 200,000).
Django-free; no database.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from messaging.xlsx import write_xlsx  # noqa: E402

HEADER = [
    "Id",
    "Account",
    "Time (UTC)",
    "Sender",
    "Destination",
    "Status",
    "Status changed",
    "Text",
    "Parts",
    "Subaccount",
]
STATUSES = ["Pending", "Sent", "Delivered", "Failed"]
BASE = dt.datetime(2026, 11, 1, 8, 0, 0)


def generate(count: int, *, aware: bool = False):
    base = BASE.replace(tzinfo=dt.UTC) if aware else BASE
    for i in range(count):
        sent = base + dt.timedelta(seconds=i)
        yield (
            i + 1,
            f"acct{i % 50}",
            sent,
            "BearSMS",
            f"62812{i:07d}",
            STATUSES[i % 4],
            sent + dt.timedelta(seconds=7),
            f"Your code is {i % 9973} <b>&</b> thanks 😀",
            1 + i % 3,
            f"sub{i % 7}",
        )


def xlsxwriter_export(path: str, rows) -> int:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        path,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "default_date_format": "yyyy-mm-dd hh:mm:ss",
            "tmpdir": tempfile.gettempdir(),
        },
    )
    sheet = workbook.add_worksheet("Messages")
    sheet.write_row(0, 0, HEADER, workbook.add_format({"bold": True}))
    count = 0
    for count, row in enumerate(rows, start=1):
        sheet.write_row(count, 0, row)
    workbook.close()
    return count


def new_export(path: str, rows) -> int:
    with open(path, "wb") as handle:
        return write_xlsx(handle, HEADER, rows)


def timed(label: str, writer, rows, directory: str) -> float:
    path = os.path.join(directory, f"{label.split()[0]}.xlsx")
    start = time.perf_counter()
    count = writer(path, rows)
    seconds = time.perf_counter() - start
    rate = count / seconds
    size = os.path.getsize(path) / 1e6
    print(f"{label:<44} {count:>9,} rows {seconds:7.2f} s {rate:>10,.0f} rows/s {size:6.1f} MB")
    return rate


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    load = os.getloadavg()[0]
    print(
        f"{count:,} generated rows x {len(HEADER)} columns, Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs, load average {load:.1f}"
    )
    naive = list(generate(count))
    aware = list(generate(count, aware=True))
    with tempfile.TemporaryDirectory() as directory:
        base = timed("xlsxwriter constant_memory (baseline)", xlsxwriter_export, naive, directory)
        new = timed("messaging.xlsx", new_export, naive, directory)
        timed("messaging.xlsx, aware UTC datetimes", new_export, aware, directory)
        print(f"messaging.xlsx / xlsxwriter: {new / base:.1f}x")
        # memory: rows generated on the fly, so only the writer's own allocations count
        tracemalloc.start()
        path = os.path.join(directory, "memory.xlsx")
        with open(path, "wb") as handle:
            write_xlsx(handle, HEADER, generate(count))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(
            f"messaging.xlsx peak traced memory over {count:,} streamed rows: {peak / 1e6:.2f} MB"
        )


if __name__ == "__main__":
    main()
