"""A task goes through the real broker and runs in a real worker process (not eager mode)."""

import os
import subprocess
import uuid

import pytest

from bearsms_portal.celery import app, ping
from tests.conftest import REPO_ROOT
from tests.workers import worker_command


@pytest.fixture
def worker_queue():
    queue = f"test-{uuid.uuid4().hex[:8]}"
    worker = subprocess.Popen(
        worker_command(queue),
        cwd=REPO_ROOT,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    yield queue
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()


def test_task_runs_in_a_real_worker(worker_queue):
    assert not app.conf.task_always_eager
    result = ping.apply_async(args=["hello"], queue=worker_queue)
    answer = result.get(timeout=60)
    assert answer["echo"] == "hello"
    assert answer["pid"] != os.getpid()
