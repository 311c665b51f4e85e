"""Real processes on the test's database: Celery workers for the SIGKILL tests (they talk to
the live sandbox over HTTP, so a test can kill one with SIGKILL and start another), and the
sandbox served alone by ``runsandbox`` for the 100,000-destination send."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import requests
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


def _process_env(**env_extra: str) -> dict[str, str]:
    """The environment of a process that works on the test's database."""
    env = dict(os.environ)
    env.pop("TEST_DATABASE_NAME", None)
    env.update(
        {
            "DATABASE_URL": database_url(),
            "BEARSMS_ADMIN_TOKEN": settings.BEARSMS_ADMIN_TOKEN,
            "FIELD_ENCRYPTION_KEY": ",".join(settings.FIELD_ENCRYPTION_KEY.split(",")),
            "SECRET_KEY": settings.SECRET_KEY,
            "LOG_LEVEL": "WARNING",
            **env_extra,
        }
    )
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    return env


def start_worker(queue: str, sandbox_url: str, **env_extra: str) -> subprocess.Popen:
    """A solo-pool worker consuming only ``queue`` (so nothing else reaches it)."""
    env = _process_env(BEARSMS_URL=sandbox_url, **env_extra)
    return subprocess.Popen(
        worker_command(queue),
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


class WorkerRelay:
    """Workers one ahead, for a test that kills its worker and starts another, many times:
    each consumes a queue of its own, and the next one starts (imports Django and Celery, a few
    seconds on a busy machine) while the current one works, so a kill is followed at once by a
    worker ready to take over. A queue of its own keeps the idle next worker out of the current
    one's work, as a worker started after the kill would be.

    ``take()`` returns ``(queue, process)`` of a started worker and starts the one after it;
    ``take(last=True)`` starts none after it. ``close()`` kills whatever is left."""

    def __init__(self, prefix: str, sandbox_url: str, **env_extra: str):
        self.prefix, self.sandbox_url, self.env_extra = prefix, sandbox_url, env_extra
        self.ahead: tuple[str, subprocess.Popen] | None = self._start()

    def _start(self) -> tuple[str, subprocess.Popen]:
        queue = f"{self.prefix}-{uuid.uuid4().hex[:8]}"
        return queue, start_worker(queue, self.sandbox_url, **self.env_extra)

    def take(self, *, last: bool = False) -> tuple[str, subprocess.Popen]:
        taken = self.ahead or self._start()
        self.ahead = None if last else self._start()
        return taken

    def close(self) -> None:
        if self.ahead is not None:
            _, process = self.ahead
            self.ahead = None
            process.kill()
            process.wait(timeout=30)


def wait_for(predicate, timeout: float, what: str, *, every: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def sandbox_process(**env_extra: str) -> Iterator[str]:
    """``manage.py runsandbox`` in its own process on the test's database (no migration, no
    tick); yields its base URL and stops it (closing its connections) on the way out."""
    port = free_port()
    env = _process_env(BEARSMS_URL="", SANDBOX_ENABLED="1", **env_extra)
    command = [sys.executable, "manage.py", "runsandbox", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--no-migrate", "--tick", "86400"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(url), 60, "the sandbox process to answer", every=0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        requests.get(f"{url}/index.php", params={"app": "ws"}, timeout=1)
    except requests.ConnectionError:
        return False
    return True
