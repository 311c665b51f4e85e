"""Benchmark of the message pages and exports at 1,000,000 local rows, on PostgreSQL.

    .venv/bin/python bench/pages.py      # after bench/sync.py (it reuses its database)
    BENCH_ONLY=pages|exports             # one half only

Uses the database of ``bench/sync.py`` (``bench_messaging``). If the ``bench`` account has fewer
than BENCH_ROWS local outgoing rows, the missing ones are generated locally (same shape as the
sandbox's) so this script also runs on its own. A tenth of the rows is marked failed and a
tenth pending, so the status filter is selective.

Prints, for the operator's Outgoing list (50 rows a page, rendered through the real view,
middleware and template by Django's test client): median and p95 over BENCH_REPEAT requests and
the SQL queries per page, at the first, middle and last page, filtered and sorted; then the
export rate and peak memory for CSV and XLSX over every row.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sync import ROWS, USERNAME, setup_django  # noqa: E402 (bench/sync.py, same folder)

REPEAT = int(os.environ.get("BENCH_REPEAT", 30))


def ensure_rows():
    from django.db import connection
    from django.utils import timezone

    from accounts.models import BearSMSAccount
    from messaging.models import OutgoingMessage

    account, _ = BearSMSAccount.objects.get_or_create(username=USERNAME)
    have = OutgoingMessage.objects.filter(account=account).count()
    if have < ROWS:
        started = time.perf_counter()
        now = timezone.now()
        table = OutgoingMessage._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"""INSERT INTO {table} (account_id, smslog_id, src, dst, text, status,
                    dispatched_at, status_changed_at, server_dt, synced_at)
                SELECT %s, 50000000 + g, '1234', '62812' || lpad((g %% 10000000)::text, 7, '0'),
                       'bulk message ' || g, 3, %s - make_interval(secs => (%s - g) * 0.05),
                       NULL, '', %s
                FROM generate_series(1, %s) AS g
                ON CONFLICT DO NOTHING""",  # noqa: S608
                [account.pk, now, ROWS - have, now, ROWS - have],
            )
        print(f"generated {ROWS - have:,} local rows in {time.perf_counter() - started:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {OutgoingMessage._meta.db_table} SET status"  # noqa: S608
            " = CASE WHEN id %% 10 = 0 THEN 2 "
            "WHEN id %% 10 = 1 THEN 0 ELSE 3 END WHERE account_id = %s AND status = 3 "
            "AND id %% 10 IN (0, 1)",
            [account.pk],
        )
        cursor.execute(f"ANALYZE {OutgoingMessage._meta.db_table}")
    return account


def operator():
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(
        username="bench-operator", defaults={"is_staff": True}
    )
    return user


def token_at(qs, keys, offset: int, *, descending: bool = True) -> str:
    from messaging.pagination import _encode

    sign = "-" if descending else ""
    row = qs.order_by(*[f"{sign}{k}" for k in keys]).values_list(*keys)[offset]
    return _encode(sign + ",".join(keys), list(row))


def measure(client, url: str, params: dict) -> tuple[float, float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        response = client.get(url, params)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    rows = response.content.count(b'href="/messages/ds/')
    return statistics.median(times), p95, len(queries), rows


class PeakRSS(threading.Thread):
    """Samples this process's resident memory every 20 ms."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak = self.base = self.rss()
        self._halt = threading.Event()

    @staticmethod
    def rss() -> int:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def run(self):
        while not self._halt.is_set():
            self.peak = max(self.peak, self.rss())
            time.sleep(0.02)

    def stop(self) -> int:
        self._halt.set()
        self.join()
        return self.peak - self.base


def main() -> None:
    setup_django()
    from django.test import Client
    from django.urls import reverse

    from messaging import exports
    from messaging.models import Export, Feed, OutgoingMessage
    from messaging.services.exports import write_export

    account = ensure_rows()
    total = OutgoingMessage.objects.count()
    user = operator()
    client = Client()
    client.force_login(user)
    url = reverse("messaging:list", args=["outgoing"])
    qs = OutgoingMessage.objects.all()
    failed = qs.filter(status=2)
    n_failed = failed.count()
    keys = ("dispatched_at", "id")
    status_keys = ("status", "dispatched_at", "id")
    cases = [
        ("first page", {}),
        ("middle page", {"after": token_at(qs, keys, total // 2)}),
        ("last page", {"after": token_at(qs, keys, total - 51)}),
        ("oldest page (the jump)", {"oldest": 1}),
        ("filtered: status=failed, 30 days, first", {"status": 2, "period": "30d"}),
        (
            "filtered: status=failed, 30 days, middle",
            {"status": 2, "period": "30d", "after": token_at(failed, keys, n_failed // 2)},
        ),
        (
            "filtered: status=failed, 30 days, last",
            {"status": 2, "period": "30d", "after": token_at(failed, keys, n_failed - 51)},
        ),
        ("filtered: account=bench, 24 h", {"account": account.pk, "period": "24h"}),
        ("filtered: destination starts with 628120000012", {"dst": "628120000012"}),
        ("filtered: sender=1234, 7 days", {"src": "1234", "period": "7d"}),
        ("filtered: text contains '4242'", {"q": "4242"}),
        ("filtered: text contains 'message 4242' (*)", {"q": "message 4242"}),
        (
            "sorted by status, middle",
            {
                "sort": "status",
                "after": token_at(qs.order_by(), status_keys, total // 2, descending=False),
            },
        ),
        (
            "sorted by destination, middle",
            {
                "sort": "destination",
                "after": token_at(
                    qs.order_by(), ("dst", "dispatched_at", "id"), total // 2, descending=False
                ),
            },
        ),
    ]
    print(
        f"PostgreSQL, {total:,} local outgoing rows, 50 rows a page, {REPEAT} requests each "
        f"(Django test client: view + middleware + template)"
    )
    print(f"{'page':45} {'median ms':>10} {'p95 ms':>8} {'queries':>8} {'rows':>5}")
    if os.environ.get("BENCH_ONLY") == "exports":
        cases = []
    for label, params in cases:
        median, p95, queries, rows = measure(client, url, params)
        print(f"{label:45} {median:10.1f} {p95:8.1f} {queries:8d} {rows:5d}")
    if cases:
        print(
            "(*) a word that is in every one of the million texts: the trigram index has to "
            "intersect posting lists that cover the whole table"
        )

    formats = (
        [] if os.environ.get("BENCH_ONLY") == "pages" else [Export.Format.CSV, Export.Format.XLSX]
    )
    for fmt in formats:
        job = Export.objects.create(user=user, feed=Feed.OUTGOING, format=fmt, query="")
        sampler = PeakRSS()
        sampler.start()
        started = time.perf_counter()
        write_export(export_id=job.pk)
        elapsed = time.perf_counter() - started
        grown = sampler.stop()
        job.refresh_from_db()
        size = (exports.export_dir() / job.file_name).stat().st_size
        print(
            f"export {fmt}: {job.rows_done:,} rows in {elapsed:.1f} s = "
            f"{job.rows_done / elapsed:,.0f} rows/s, file {size / 1e6:.0f} MB, "
            f"peak memory growth {grown / 1e6:.1f} MB"
        )
        (exports.export_dir() / job.file_name).unlink()


if __name__ == "__main__":
    main()
