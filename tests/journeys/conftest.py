"""The journey harness: the live server with the sandbox, a real Celery worker and beat started
as subprocesses for the session, and Debian's chromium through Playwright with page checks on
every page a journey visits (no console error, no failed request, every form field labelled,
no horizontal scroll of the main content at 390 px).

The database is the test database (PostgreSQL when ``DATABASE_URL`` is set); the broker is
Redis when ``REDIS_URL`` is set, Celery's filesystem transport otherwise. Each session uses its
own queue, so parallel test sessions sharing a broker never run each other's tasks.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from tests.browser import chromium
from tests.conftest import REPO_ROOT
from tests.workers import worker_command

from .pages import Journey


def _database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "postgresql":
        user = db.get("USER") or "postgres"
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        host = db.get("HOST") or "127.0.0.1"
        port = db.get("PORT") or 5432
        return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"
    return f"sqlite:///{db['NAME']}"


def _process_env(queue: str, sandbox_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("TEST_DATABASE_NAME", None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tests.journeys.worker_settings",
            "JOURNEY_QUEUE": queue,
            "DATABASE_URL": _database_url(),
            "BEARSMS_URL": sandbox_url,
            "SANDBOX_ENABLED": "1",
            "BEARSMS_ADMIN_USERNAME": settings.BEARSMS_ADMIN_USERNAME,
            "BEARSMS_ADMIN_TOKEN": settings.BEARSMS_ADMIN_TOKEN,
            "FIELD_ENCRYPTION_KEY": settings.FIELD_ENCRYPTION_KEY,
            "SECRET_KEY": settings.SECRET_KEY,
            "LOG_LEVEL": "WARNING",
            # quick enough for a journey to watch: pulls every second, the sandbox ticks often
            "SYNC_TICK": "1",
            "SYNC_INTERVAL": "1",
            "SANDBOX_TICK": "0.5",
            "SEND_RESOLVE_DELAY": "2",
            "SYNC_REFRESH_INTERVAL": "2",
        }
    )
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    return env


def _purge(queue: str) -> None:
    """Drop what beat queued for the previous journey while no worker was listening."""
    from bearsms_portal.celery import app

    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge(queue)


@pytest.fixture(scope="session")
def celery_queue(tmp_path_factory):
    """The session's own queue (parallel test sessions may share one broker) and log folder."""
    return f"journeys-{uuid.uuid4().hex[:8]}", tmp_path_factory.mktemp("celery")


@pytest.fixture
def celery_processes(celery_queue, live_server, transactional_db):
    """A real worker (solo pool) and beat for one journey, on the session's own queue.

    They live no longer than the journey: they are stopped (and killed when a task in hand
    does not finish within seconds; its database connection goes with the process) before the
    test database is flushed: a worker in the middle of a transaction at that moment made the
    flush fail on PostgreSQL ("couldn't be flushed")."""
    queue, logs = celery_queue
    _purge(queue)
    env = _process_env(queue, f"{live_server.url}/sandbox")
    base = [sys.executable, "-m", "celery", "-A", "bearsms_portal"]
    worker = subprocess.Popen(
        worker_command(queue),
        cwd=REPO_ROOT,
        env=env,
        stdout=open(logs / "worker.log", "a"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
    )
    beat = subprocess.Popen(
        [
            *base,
            "beat",
            "--loglevel",
            "WARNING",
            "--schedule",
            str(logs / "beat-schedule"),
            "--pidfile",
            "",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=open(logs / "beat.log", "a"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
    )
    try:
        yield {"queue": queue, "worker": worker, "beat": beat, "logs": logs}
    finally:
        for process in (beat, worker):
            process.terminate()
        for process in (beat, worker):
            try:
                # the journey is over: a long task in hand (a bulk send) is not waited for
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture
def world(live_sandbox_documented, live_server, settings, transactional_db, celery_processes):
    """The live server, the sandbox (documented profile) and the session's worker and beat: tasks
    the portal queues go to the session's queue while the journey runs."""
    from bearsms_portal.celery import app

    assert celery_processes["worker"].poll() is None, "the Celery worker died"
    assert celery_processes["beat"].poll() is None, "Celery beat died"
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = celery_processes["queue"]
    settings.CELERY_TASK_DEFAULT_QUEUE = celery_processes["queue"]
    try:
        yield live_sandbox_documented
    finally:
        app.conf.task_default_queue = previous


@pytest.fixture
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture
def journey(browser, live_server, world):
    """``journey.person()`` opens a browser context for one person; every page it loads is
    checked (see :mod:`tests.journeys.pages`), and the checks are asserted again at the end."""
    journeys: list[Journey] = []

    def person() -> Journey:
        j = Journey(browser, live_server.url, downloads=Path(tempfile.mkdtemp()))
        journeys.append(j)
        return j

    yield person
    for j in journeys:
        j.close()
