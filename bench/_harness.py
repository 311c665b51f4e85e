"""What the PostgreSQL benchmarks share: a database of their own and the sandbox in processes of
its own (under gunicorn, or ``runsandbox``).

A benchmark imports this before Django: :func:`use_database` points ``DATABASE_URL`` at the
benchmark's database before the settings read it. (The leading underscore keeps ``make bench``
from running this module as a benchmark.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def use_database(variable: str, default_name: str) -> str:
    """The benchmark's database URL (``variable`` in the environment, else ``default_name`` on
    the local PostgreSQL), set as the portal's ``DATABASE_URL``."""
    url = os.environ.get(variable, f"postgres://postgres@127.0.0.1:5432/{default_name}")
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bearsms_portal.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    return url


def setup_django(url: str, *, fresh: bool) -> None:
    """Create the database (dropped first when ``fresh``), start Django and migrate."""
    import psycopg

    name = url.rsplit("/", 1)[-1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.DEBUG = False  # no query log: it would slow the loops and skew the figures
    call_command("migrate", verbosity=0)


def _answering(server: subprocess.Popen, url: str) -> subprocess.Popen:
    """``server`` once ``url`` answers (a minute at most; then it is killed and the run ends)."""
    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2)
            return server
        except requests.RequestException:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("the sandbox server did not start")


def start_sandbox_server(url: str, port: int, *, workers: int, threads: int = 1):
    """The portal (with its sandbox) under gunicorn on ``port``, reading the database ``url``;
    returns the process once the sandbox answers. The caller stops it."""

    env = dict(os.environ, DATABASE_URL=url, SANDBOX_PROFILE="documented")
    env.pop("BEARSMS_URL", None)
    server = subprocess.Popen(
        [
            str(REPO / ".venv/bin/gunicorn"),
            "bearsms_portal.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return _answering(server, f"http://127.0.0.1:{port}/sandbox/index.php?app=ws")


def start_runsandbox(url: str, port: int, **env_extra: str):
    """``manage.py runsandbox`` (threaded, one thread per connection) on ``port``, reading the
    database ``url``, its lifecycle tick off (no dispatching during a run); returns the
    process once the sandbox answers at ``http://127.0.0.1:{port}``. The caller stops it."""
    from django.conf import settings

    env = dict(
        os.environ,
        DATABASE_URL=url,
        SANDBOX_PROFILE="documented",
        SANDBOX_ENABLED="1",
        BEARSMS_ADMIN_TOKEN=settings.BEARSMS_ADMIN_TOKEN,
    )
    env.update(env_extra)
    env.pop("BEARSMS_URL", None)
    command = [sys.executable, "manage.py", "runsandbox", "--port", str(port), "--no-migrate"]
    server = subprocess.Popen(
        [*command, "--tick", "86400"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return _answering(server, f"http://127.0.0.1:{port}/index.php?app=ws")
