"""Benchmark of a bulk send: 100,000 recipients from a CSV file to the sandbox, on PostgreSQL.

    .venv/bin/python bench/send.py            # BENCH_SEND_ROWS=100000 by default
    BENCH_SEND_ROWS=10000 BENCH_BASELINE_ROWS=300 .venv/bin/python bench/send.py   # a check

Run it on a quiet machine: everything (worker, sandbox, PostgreSQL) shares its CPU, and
other load shows up as time outside the sandbox's measured window (docs/benchmarks.md).

Everything runs in a database of its own, ``bench_send`` (dropped and re-created; set
BENCH_SEND_DATABASE_URL to change it), against the built-in sandbox served by ``manage.py
runsandbox`` in its own process on BENCH_PORT (default 8766; threaded, one thread per
connection, only the middleware the sandbox needs; its lifecycle tick is off, so it spends no
time dispatching during the run). The worker and the sandbox run with ``DEBUG=0``, as in
production: no debug cursor, no query log growing in the worker's memory. Prints, for the
same run:

1. the file: BENCH_SEND_ROWS rows written to a CSV, uploaded, checked (every number read by the
   sending rule) and turned into a send with its destinations;
2. **the bulk send**: the submission as a real Celery worker process runs it (solo pool,
   BENCH_SEND_CONCURRENCY requests in flight, default 16; each destination claimed in the
   database right before its request, by the statement that also writes the answer to the
   submitter's previous request): wall time, ``pv`` requests, requests in flight (peak and
   mean, from the sandbox's request log) and the worker's peak memory (``VmHWM``);
3. **the sandbox's own service time** for those requests: the sum of its request-log
   durations divided by the concurrency — the least a client could take at that concurrency.
   A duration runs from the moment ``runsandbox`` read the request line to the moment the
   reply was built (HTTP parsing, WSGI and the view: the server's whole handling, as a web
   server's access log times it), not from the start of the view. Like an access log, the
   entry is written after the reply has gone: the caller does not wait for it;
4. **one at a time**: BENCH_BASELINE_ROWS requests sent in a plain loop, one after the other
   (the client alone, no database work), extrapolated to BENCH_SEND_ROWS.

BENCH_PV_LATENCY_MS (default 100) adds a wait to every ``pv`` in the sandbox (its
``latency_ms`` fault, counted in its request-log durations, a sleep that uses no CPU), for the
bulk send and the one-at-a-time loop alike. It stands in for what a real server's answer
includes and a sandbox on the same host does not: the network round trip and the server's own
time. Without it the sandbox answers in a few milliseconds of CPU on the same two cores as
the portal, and concurrency has nothing to overlap (see docs/benchmarks.md). 0 = no wait.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _harness import REPO, setup_django, start_runsandbox, use_database

BENCH_DB = use_database("BENCH_SEND_DATABASE_URL", "bench_send")
ROWS = int(os.environ.get("BENCH_SEND_ROWS", 100_000))
BASELINE_ROWS = int(os.environ.get("BENCH_BASELINE_ROWS", 1_000))
PORT = int(os.environ.get("BENCH_PORT", 8766))
CONCURRENCY = int(os.environ.get("BENCH_SEND_CONCURRENCY", 16))
# Emulated network and server wait per pv (a sleep in the sandbox, no CPU): the real server is
# remote, so most of a request's time is waiting, which concurrency overlaps. 0 = none.
PV_LATENCY_MS = int(os.environ.get("BENCH_PV_LATENCY_MS", 100))
USERNAME = "benchsend"
SANDBOX_URL = f"http://127.0.0.1:{PORT}"


def production_env() -> dict[str, str]:
    """``DEBUG=0`` (the production profile: no query log kept per connection, no debug
    cursor) with the secrets it requires, for the worker and the sandbox."""
    from django.conf import settings

    return {
        "DEBUG": "0",
        "BEARSMS_ADMIN_TOKEN": settings.BEARSMS_ADMIN_TOKEN,
        "FIELD_ENCRYPTION_KEY": settings.FIELD_ENCRYPTION_KEY,
        "SECRET_KEY": settings.SECRET_KEY,
    }


def start_worker(queue: str) -> subprocess.Popen:
    from tests.workers import worker_command

    env = dict(os.environ, DATABASE_URL=BENCH_DB, BEARSMS_URL=SANDBOX_URL, **production_env())
    return subprocess.Popen(
        worker_command(queue),
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def peak_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def accounts():
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from accounts.models import BearSMSAccount
    from bearsms_portal.sandbox.services import world

    world.ensure_main_admin(settings.BEARSMS_ADMIN_USERNAME, token=settings.BEARSMS_ADMIN_TOKEN)
    _, token = world.create_user(USERNAME, credit=10 * (ROWS + BASELINE_ROWS))
    account = BearSMSAccount(username=USERNAME)
    account.store_token(token)
    account.save()
    operator = get_user_model().objects.create_user(
        username="bench-operator", password=uuid.uuid4().hex, is_staff=True
    )
    return account, operator


def write_csv(path: Path, rows: int) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["phone", "name", "code"])
        for i in range(rows):
            writer.writerow([f"+1415{2000000 + i:07d}", f"Person {i}", f"{i:06d}"])


def in_flight(logs: list[tuple]) -> tuple[int, float]:
    """Peak and mean requests in flight, from (end time, duration ms) of each request."""
    events = []
    for created, duration_ms in logs:
        end = created.timestamp()
        events.append((end - duration_ms / 1000, 1))
        events.append((end, -1))
    events.sort()
    peak = current = 0
    for _, step in events:
        current += step
        peak = max(peak, current)
    span = events[-1][0] - events[0][0] if events else 0
    busy = sum(d for _, d in logs) / 1000
    return peak, (busy / span if span else 0.0)


def pv_log(after_id: int) -> list[tuple]:
    from bearsms_portal.sandbox.models import RequestLog

    return list(
        RequestLog.objects.filter(op="pv", id__gt=after_id)
        .order_by("id")
        .values_list("created", "duration_ms")
    )


def settled_pv_log(after_id: int, expected: int) -> list[tuple]:
    """:func:`pv_log` once it holds ``expected`` entries (or has not grown for a second):
    ``runsandbox`` writes each entry after its reply has gone, as an access log is written."""
    logs, deadline, grown = pv_log(after_id), time.monotonic() + 30, time.monotonic()
    while len(logs) < expected and time.monotonic() < deadline:
        time.sleep(0.1)
        again = pv_log(after_id)
        if len(again) > len(logs):
            grown = time.monotonic()
        elif time.monotonic() - grown >= 1:
            break
        logs = again
    return logs


def last_log_id() -> int:
    from bearsms_portal.sandbox.models import RequestLog

    return RequestLog.objects.order_by("-id").values_list("id", flat=True).first() or 0


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so the processes below are stopped
    setup_django(BENCH_DB, fresh=True)
    from django.conf import settings
    from django.core.files import File

    from accounts.clients import client_for
    from messaging.models import RecipientFile, Send, SendDestination
    from messaging.selectors import send_summary
    from messaging.services import bulk

    settings.BEARSMS_URL = SANDBOX_URL
    settings.SEND_CONCURRENCY = CONCURRENCY  # the send records it; its worker uses it
    server = start_runsandbox(
        BENCH_DB,
        PORT,
        SANDBOX_REQUEST_LOG_KEEP=str(10 * (ROWS + BASELINE_ROWS)),
        **production_env(),
    )
    worker = None
    workdir = Path(tempfile.mkdtemp(prefix="bench-send-"))
    settings.MEDIA_ROOT = workdir / "media"
    try:
        account, operator = accounts()
        if PV_LATENCY_MS:
            from bearsms_portal.sandbox import faults

            faults.set_fault("pv", "latency_ms", PV_LATENCY_MS)
        concurrency = settings.SEND_CONCURRENCY
        print(
            f"PostgreSQL, {ROWS:,} recipients, {concurrency} requests in flight per send; sandbox "
            f"by runsandbox in its own process, {PV_LATENCY_MS} ms emulated wait per pv; "
            f"{os.cpu_count()} CPU(s) shared by everything, load average "
            f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}"
        )

        # 1. the file
        path = workdir / "recipients.csv"
        write_csv(path, ROWS)
        started = time.perf_counter()
        with open(path, "rb") as handle:
            recipient_file = bulk.recipient_file_upload(
                actor=operator, account=account, upload=File(handle, name="recipients.csv")
            )
        bulk.enqueue = lambda _task, file_id: None  # the check runs below, timed
        bulk.recipient_file_map(
            actor=operator,
            recipient_file=recipient_file,
            header=True,
            number_column=0,
            text="Hello {name}, your code is {code}.",
        )
        uploaded = time.perf_counter() - started
        started = time.perf_counter()
        bulk.recipient_file_check(file_id=recipient_file.pk)
        checked = time.perf_counter() - started
        recipient_file = RecipientFile.objects.get(pk=recipient_file.pk)
        started = time.perf_counter()
        bulk.start_send = lambda send: None  # queued below, to the benchmark's worker
        send = bulk.bulk_send_start(actor=operator, recipient_file=recipient_file)
        written = time.perf_counter() - started
        print(
            f"file:        {path.stat().st_size / 1e6:.1f} MB uploaded in {uploaded:.1f} s; "
            f"{recipient_file.rows_read:,} rows checked in {checked:.1f} s "
            f"({recipient_file.rows_read / checked:,.0f} rows/s); {send.destinations_total:,} "
            f"destinations written in {written:.1f} s"
        )

        # 2. the bulk send in a real worker
        from bearsms_portal.celery import app

        queue = f"bench-send-{uuid.uuid4().hex[:8]}"
        worker = start_worker(queue)
        first_log = last_log_id()
        time.sleep(3)  # let the worker start before the clock does
        started = time.perf_counter()
        app.send_task("messaging.submit_send", args=[send.pk], queue=queue)
        shown = time.perf_counter()
        while Send.objects.filter(pk=send.pk).values_list("state", flat=True)[0] in (
            Send.State.QUEUED,
            Send.State.SENDING,
        ):
            time.sleep(0.2)
            if time.perf_counter() - shown >= 60:  # a long run shows where it is
                shown = time.perf_counter()
                done = send_summary(send)[SendDestination.State.SUBMITTED]
                elapsed = shown - started
                print(
                    f"  {elapsed:.0f} s: {done:,} submitted ({done / elapsed:,.0f}/s), load "
                    f"average {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
        wall = time.perf_counter() - started
        memory = peak_memory_mb(worker.pid)
        summary = send_summary(send)
        logs = settled_pv_log(first_log, summary["total"])
        peak, mean = in_flight(logs)
        service = sum(d for _, d in logs) / 1000 / concurrency
        print(
            f"bulk send:   {len(logs):,} pv requests in {wall:.1f} s ({len(logs) / wall:,.0f}/s); "
            f"submitted {summary[SendDestination.State.SUBMITTED]:,}, refused "
            f"{summary[SendDestination.State.REFUSED]:,}, unknown "
            f"{summary[SendDestination.State.UNKNOWN]:,}; in flight: peak {peak}, mean "
            f"{mean:.1f}; sending worker peak memory {memory:.0f} MB"
        )
        print(
            f"sandbox:     service time {service:.1f} s (sum of {len(logs):,} request-log "
            f"durations / {concurrency}); wall = {wall / service:.2f}x the service time "
            f"(target <= 1.2x)"
        )

        # 3. one at a time
        client = client_for(account)
        first_log = last_log_id()
        started = time.perf_counter()
        for i in range(BASELINE_ROWS):
            client.send_message(f"1416{3000000 + i:07d}", f"Hello Person {i}, your code is x.")
        baseline = time.perf_counter() - started
        baseline_full = baseline / BASELINE_ROWS * ROWS
        base_logs = settled_pv_log(first_log, BASELINE_ROWS)
        base_service = sum(d for _, d in base_logs) / 1000
        print(
            f"one at a time: {BASELINE_ROWS:,} requests in {baseline:.1f} s "
            f"({BASELINE_ROWS / baseline:,.0f}/s; sandbox service {base_service:.1f} s) -> "
            f"{ROWS:,} would take {baseline_full:.0f} s; the bulk send is "
            f"{baseline_full / wall:.1f}x faster (target >= 8x)"
        )
    finally:
        if worker is not None:
            worker.kill()  # a warm shutdown would wait for the send to finish
            worker.wait(timeout=30)
        server.terminate()
        server.wait(timeout=30)
        print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
