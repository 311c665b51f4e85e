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


def manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env, check=True,
                          capture_output=True, text=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed_pages(base: str, params: dict, count: int) -> list[float]:
    session = requests.Session()
    timings = []
    for _ in range(count + 2):
        started = time.perf_counter()
        reply = session.get(base, params=params, timeout=30)
        elapsed = (time.perf_counter() - started) * 1000
        rows = reply.json()["data"]
        expected = int(params["c"].split(",")[-1])
        assert len(rows) == expected, f"expected {expected} rows, got {len(rows)}"
        timings.append(elapsed)
    return timings[2:]  # the first two warm the connection and the caches


def summary(label: str, timings: list[float]) -> str:
    ordered = sorted(timings)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return (f"{label:<44} median {statistics.median(ordered):7.1f} ms   p95 {p95:7.1f} ms   "
            f"min {ordered[0]:7.1f} ms   (n={len(ordered)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    server = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
    database = os.environ.get("BENCH_DB", "bench_sandbox")
    env = {**os.environ, "DATABASE_URL": f"{server}/{database}", "BEARSMS_URL": "",
           "BEARSMS_ADMIN_TOKEN": TOKEN, "SANDBOX_PROFILE": "playsms-1.4.8",
           "LOG_LEVEL": "WARNING", "DEBUG": "1"}
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
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
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
        newest = timed_pages(base, {**creds, "c": "1000"}, args.requests)
        middle = timed_pages(base, {**creds, "c": "1000", "last": str(args.messages // 2)},
                             args.requests)
        offset = timed_pages(base, {**creds, "c": f"{args.messages // 2},1000"}, 5)
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)
        if os.environ.get("BENCH_KEEP") != "1":
            psql(server, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")

    print(f"sandbox benchmark on PostgreSQL ({database}), profile playsms-1.4.8")
    print(f"sandbox_seed --messages {args.messages:,}: {seed_seconds:.1f} s "
          f"({args.messages / seed_seconds:,.0f} rows/s, demo world included)")
    print(summary("ds c=1000 (newest page, over HTTP)", newest))
    print(summary(f"ds c=1000 last={args.messages // 2} (over HTTP)", middle))
    print(summary(f"ds c={args.messages // 2},1000 (deep offset, over HTTP)", offset))


if __name__ == "__main__":
    main()
