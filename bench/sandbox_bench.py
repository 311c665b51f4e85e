"""Sandbox benchmark: ``sandbox_seed --messages N`` and the time of a 1,000-row `ds` page.

Runs against PostgreSQL in a database of its own (``bench_sandbox``, dropped and re-created),
so it never touches the portal's data or anybody's test database. Prints the figures.

    .venv/bin/python bench/sandbox_bench.py [--messages 1000000] [--requests 30]

Environment: BENCH_PG (default postgres://postgres@127.0.0.1:5432), BENCH_DB (bench_sandbox).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
TOKEN = "benchsandboxtoken0001"


def psql(server: str, sql: str) -> None:
    subprocess.run(["psql", f"{server}/postgres", "-q", "-c", sql], check=True)


def query(server: str, database: str, sql: str) -> list[str]:
    out = subprocess.run(
        ["psql", f"{server}/{database}", "-Atc", sql], check=True, capture_output=True, text=True
    ).stdout
    return out.strip().split("|")


def manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(base: str, params: dict, count: int, rows: int | None) -> list[float]:
    """Milliseconds per request (after two warm-up requests); checks the row count."""
    session = requests.Session()
    timings = []
    for _ in range(count + 2):
        started = time.perf_counter()
        reply = session.get(base, params=params, timeout=60)
        elapsed = (time.perf_counter() - started) * 1000
        got = len(reply.json().get("data") or [])
        assert rows is None or got == rows, f"{params}: expected {rows} rows, got {got}"
        timings.append(elapsed)
    return timings[2:]


def summary(label: str, timings: list[float]) -> str:
    ordered = sorted(timings)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return (
        f"{label:<44} median {statistics.median(ordered):7.1f} ms   p95 {p95:7.1f} ms   "
        f"min {ordered[0]:7.1f} ms   (n={len(ordered)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    server = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
    database = os.environ.get("BENCH_DB", "bench_sandbox")
    env = {
        **os.environ,
        "DATABASE_URL": f"{server}/{database}",
        "BEARSMS_URL": "",
        "BEARSMS_ADMIN_TOKEN": TOKEN,
        "SANDBOX_PROFILE": "playsms-1.4.8",
        "LOG_LEVEL": "WARNING",
        "DEBUG": "1",
    }
    env.pop("REDIS_URL", None)

    psql(server, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    psql(server, f"CREATE DATABASE {database}")
    manage(env, "migrate", "--no-input", "-v", "0")

    started = time.perf_counter()
    manage(env, "sandbox_seed", "--messages", str(args.messages))
    seed_seconds = time.perf_counter() - started
    subprocess.run(["psql", f"{server}/{database}", "-q", "-c", "ANALYZE"], check=True)

    port = free_port()
    sandbox = subprocess.Popen(
        [sys.executable, "manage.py", "runsandbox", "--port", str(port), "--no-migrate"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/index.php"
    creds = {"app": "ws", "u": "admin", "h": TOKEN, "op": "ds"}
    try:
        for _ in range(200):
            try:
                requests.get(base, params={"app": "ws"}, timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        newest = timed(base, {**creds, "c": "1000"}, args.requests, 1000)
        middle = timed(
            base, {**creds, "c": "1000", "last": str(args.messages // 2)}, args.requests, 1000
        )
        top_id, top_dt = query(
            server, database, "SELECT id, dt FROM sandbox_outgoing ORDER BY id DESC LIMIT 1"
        )
        poll = timed(base, {**creds, "last": top_id}, args.requests, 0)
        minute, day = top_dt[:16], top_dt[:10]  # the newest minute and day of bulk rows
        window = timed(base, {**creds, "dt": minute, "c": "1000"}, args.requests, None)
        day_page = timed(base, {**creds, "dt": day, "c": "1000"}, args.requests, 1000)
        offset = timed(base, {**creds, "c": f"{args.messages // 2},1000"}, 5, 1000)
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)
        if os.environ.get("BENCH_KEEP") != "1":
            psql(server, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")

    print(f"sandbox benchmark on PostgreSQL ({database}), profile playsms-1.4.8")
    print(
        f"sandbox_seed --messages {args.messages:,}: {seed_seconds:.1f} s "
        f"({args.messages / seed_seconds:,.0f} rows/s, demo world included)"
    )
    print(summary("ds c=1000 (the newest page)", newest))
    print(summary(f"ds c=1000 last={args.messages // 2}", middle))
    print(summary("ds last=<newest id> (poll, nothing new: 400)", poll))
    print(summary(f"ds dt={minute!r} (one-minute window)", window))
    print(summary(f"ds dt={day!r} c=1000 (one day)", day_page))
    print(summary(f"ds c={args.messages // 2},1000 (deep offset)", offset))
    print("(all over HTTP against runsandbox, client-side wall time per request)")


if __name__ == "__main__":
    main()
