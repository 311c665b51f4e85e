"""Management commands, the beat task and the request log."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.core.management import call_command

from bearsms_portal.sandbox import selectors
from bearsms_portal.sandbox.models import Inbox, Incoming, Outgoing, Queue, SandboxUser
from bearsms_portal.sandbox.tasks import tick
from bearsms_portal.sandbox.views import AFTER_REPLY

from .helpers import call

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.django_db(transaction=True)
def test_sandbox_seed_is_idempotent_and_fills_every_feed():
    out = StringIO()
    call_command("sandbox_seed", "--admin-token", "seedtoken0001", stdout=out)
    counts = (
        SandboxUser.objects.count(),
        Outgoing.objects.count(),
        Incoming.objects.count(),
        Inbox.objects.count(),
    )
    call_command("sandbox_seed", "--admin-token", "seedtoken0001", stdout=out)
    assert (
        SandboxUser.objects.count(),
        Outgoing.objects.count(),
        Incoming.objects.count(),
        Inbox.objects.count(),
    ) == counts
    assert "seedtoken0001" not in out.getvalue()
    admin = SandboxUser.objects.get(username="admin", is_main_admin=True)
    assert admin.token == "seedtoken0001"
    resellers = SandboxUser.objects.filter(status=3)
    assert sorted(resellers.values_list("username", flat=True)) == ["acme", "globex"]
    assert SandboxUser.objects.filter(status=4, parent__in=resellers).count() == 3
    win = selectors.window("", "")
    assert selectors.outgoing(admin, win=win)
    assert selectors.incoming(admin, win=win)
    assert selectors.sandbox(win=win)
    assert selectors.inbox(SandboxUser.objects.get(username="acme"), win=win)
    assert Queue.objects.filter(state=Queue.State.WAITING).exists()  # a scheduled message


@pytest.mark.django_db(transaction=True)
def test_sandbox_seed_bulk_messages():
    call_command("sandbox_seed", "--messages", "2500", stdout=StringIO())
    admin = SandboxUser.objects.get(is_main_admin=True)
    assert Outgoing.objects.filter(user=admin).count() >= 2500
    newest = selectors.outgoing(admin, win=selectors.window("1000", ""))
    assert len(newest) == 1000
    assert [r["dt"] for r in newest] == sorted((r["dt"] for r in newest), reverse=True)


def test_tick_command_and_beat_task_move_messages_on(sandbox):
    call(sandbox, "pv", to="628111", msg="x")
    time.sleep(1.1)  # the daemon delay
    out = StringIO()
    call_command("sandbox_tick", stdout=out)
    assert "dispatched=1" in out.getvalue()
    time.sleep(1.1)  # the DLR delay
    assert tick()["reported"] == 1
    assert call(sandbox, "ds").json()["data"][0]["status"] in (3, "3")
    assert settings.CELERY_BEAT_SCHEDULE["sandbox-tick"]["task"] == "sandbox.tick"


def test_request_log_keeps_no_secrets(sandbox):
    call(sandbox, "get_token", u="admin", p="admin")
    call(sandbox, "cr")
    key = call(sandbox, "loginkeyset", data_username="admin").json()["login_key"]
    call(sandbox, "ws_login", u="admin", login_key=key)
    for entry in sandbox.requests():
        text = str(entry.params)
        assert sandbox.admin_token not in text and key not in text
    assert [e.result for e in sandbox.requests()] == ["0", "0", "0", ""]
    assert sandbox.requests("cr")[0].params["h"] == "***"
    assert sandbox.requests("get_token")[0].params["p"] == "***"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_runsandbox_serves_alone_with_the_tick_inside(tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'sandbox.sqlite3'}",
        "BEARSMS_ADMIN_TOKEN": "runsandboxtoken1",
        "SANDBOX_PROFILE": "playsms-1.4.8",
        "BEARSMS_URL": "",
        "VAR_DIR": str(tmp_path),
    }
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runsandbox", "--port", str(port), "--tick", "0.3"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}/index.php"
    creds = {"app": "ws", "u": "admin", "h": "runsandboxtoken1"}
    try:
        deadline = time.monotonic() + 90  # migrating a fresh SQLite file is slow on a busy box
        while time.monotonic() < deadline:
            try:
                requests.get(base, params={"app": "ws"}, timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        sent = requests.get(
            base, params={**creds, "op": "pv", "to": "628111", "msg": "hi"}, timeout=5
        ).json()
        assert sent["data"][0]["status"] == "OK"
        for _ in range(60):
            listed = requests.get(base, params={**creds, "op": "ds"}, timeout=5).json()
            if listed.get("data") and listed["data"][0]["status"] == 3:
                break
            time.sleep(0.2)
        assert listed["data"][0]["status"] == 3
        # The request log is written after each reply (as an access log is): the pv is there,
        # timed from its request line, without its token.
        with sqlite3.connect(tmp_path / "sandbox.sqlite3") as db:
            logged = db.execute(
                "SELECT duration_ms, params FROM sandbox_requestlog WHERE op = 'pv'"
            ).fetchall()
        assert len(logged) == 1 and logged[0][0] > 0
        assert "runsandboxtoken1" not in logged[0][1]
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_server_that_works_after_the_reply_is_handed_the_request_log_entry(sandbox, client):
    """Under ``runsandbox`` the entry is written once the reply has left; the duration it
    records is the one measured before the reply went."""
    after_reply = []
    query = {"app": "ws", "u": sandbox.admin_username, "h": sandbox.admin_token, "op": "cr"}
    started = time.monotonic()
    reply = client.get("/sandbox/index.php", query, **{AFTER_REPLY: after_reply})
    answered_ms = (time.monotonic() - started) * 1000
    assert reply.status_code == 200 and reply.json()["status"] == "OK"
    assert len(after_reply) == 1 and sandbox.requests("cr") == []
    time.sleep(0.2)
    after_reply[0]()
    (entry,) = sandbox.requests("cr")
    assert entry.http_status == 200 and 0 < entry.duration_ms <= answered_ms
    client.get("/sandbox/index.php", query)  # any other server: written before the reply
    assert len(sandbox.requests("cr")) == 2


def test_request_log_is_pruned_by_the_tick(sandbox, settings):
    settings.SANDBOX_REQUEST_LOG_KEEP = 3
    for _ in range(5):
        call(sandbox, "cr")
    sandbox.tick()
    assert len(sandbox.requests()) == 3
