"""Real Celery worker processes for the SIGKILL tests: they talk to the live sandbox over HTTP
and write to the test's database, so a test can kill one with SIGKILL and start another."""

from __future__ import annotations

import os
import subprocess
import time

from django.conf import settings
from django.db import connection

from tests.conftest import REPO_ROOT
from tests.workers import worker_command


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        user = db.get("USER") or "postgres"
        host = db.get("HOST") or "127.0.0.1"
        port = db.get("PORT") or 5432
        return f"postgres://{user}@{host}:{port}/{db['NAME']}"
    return f"sqlite:///{db['NAME']}"


def start_worker(queue: str, sandbox_url: str, **env_extra: str) -> subprocess.Popen:
    """A solo-pool worker consuming only ``queue`` (so nothing else reaches it)."""
    env = dict(os.environ)
    env.pop("TEST_DATABASE_NAME", None)
    env.update(
        {
            "DATABASE_URL": database_url(),
            "BEARSMS_URL": sandbox_url,
            "BEARSMS_ADMIN_TOKEN": settings.BEARSMS_ADMIN_TOKEN,
            "FIELD_ENCRYPTION_KEY": ",".join(settings.FIELD_ENCRYPTION_KEY.split(",")),
            "SECRET_KEY": settings.SECRET_KEY,
            "LOG_LEVEL": "WARNING",
            **env_extra,
        }
    )
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    return subprocess.Popen(
        worker_command(queue),
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for(predicate, timeout: float, what: str, *, every: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")
