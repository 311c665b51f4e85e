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


@pytest.mark.django_db
def test_a_task_whose_row_is_gone_is_skipped_in_one_line(caplog):
    """A message left in var/broker by a run on a deleted database (first `make run` after
    `rm var/db.sqlite3`): the transfer it names does not exist."""
    from accounts.tasks import advance_transfer

    with caplog.at_level("WARNING", logger="bearsms_portal.celery"):
        result = advance_transfer.apply(args=[987654])
    assert result.successful() and result.result is None
    assert "accounts.advance_transfer(987654,) skipped: CreditTransfer" in caplog.text
