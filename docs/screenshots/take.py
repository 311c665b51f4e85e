"""Refresh the PNGs of ``docs/screenshots/`` from the demo world (``make screenshots``).

    .venv/bin/python docs/screenshots/take.py

What ``make run`` starts, on a scratch folder: ``migrate`` and ``seed_demo`` on a throw-away
SQLite database, the portal with its built-in sandbox (runserver), a Celery worker and beat on
the filesystem broker. This process then adds a little through the portal's own services (a
credit transfer, a send to a few numbers and a group, a 1,200-row bulk file) and photographs the
pages with Debian's chromium through Playwright, logged in as the demo operator through the
login form. The bulk send is photographed while it runs (the sandbox answers ``pv`` slowly for
it) and is cancelled afterwards. Set ``SCREENSHOT_PORT`` when port 8791 is taken.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
PORT = int(os.environ.get("SCREENSHOT_PORT", "8791"))
BASE = f"http://127.0.0.1:{PORT}"
VIEWPORT = {"width": 1400, "height": 900}
BULK_ROWS = 1_200
RESTAURANTS = ["Luigi's", "The Blue Door", "Sakura", "Casa Lola", "Green Fork"]


def _environment(var: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "VAR_DIR": str(var),
        "PORTAL_URL": BASE,
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{var / 'portal.sqlite3'}",
        "REDIS_URL": "",
        "DJANGO_SETTINGS_MODULE": "bearsms_portal.settings",
        "LOG_LEVEL": "WARNING",
        # the demo moves quickly enough to be photographed: pulls every second
        "SYNC_TICK": "1",
        "SYNC_INTERVAL": "1",
        "SEND_RESOLVE_DELAY": "2",
        "SYNC_REFRESH_INTERVAL": "2",
        "SANDBOX_TICK": "0.5",
    }
    env.pop("BEARSMS_URL", None)
    env.pop("TEST_DATABASE_NAME", None)
    return env


@contextmanager
def _processes(env: dict[str, str], logs: Path):
    """The portal (with the sandbox), a Celery worker and beat, stopped on the way out."""
    python = sys.executable
    commands = {
        "web": [python, "manage.py", "runserver", f"127.0.0.1:{PORT}", "--noreload"],
        "worker": [python, "-m", "celery", "-A", "bearsms_portal", "worker", "-c", "2"],
        "beat": [python, "-m", "celery", "-A", "bearsms_portal", "beat", "--schedule"]
        + [str(logs / "beat-schedule")],
    }
    running = []
    try:
        for name, command in commands.items():
            log = open(logs / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
            running.append(
                (
                    subprocess.Popen(
                        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
                    ),
                    log,
                )
            )
        _until(lambda: _answers(f"{BASE}/login/"), 30, "the portal to start")
        yield
    finally:
        for process, _ in running:
            process.terminate()
        for process, log in running:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            log.close()


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2)  # noqa: S310 - a local URL
    except OSError:
        return False
    return True


def _until(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while not (found := condition()):
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {what}")
        time.sleep(0.5)
    return found


# --- the demo world, and what this script adds to it ------------------------------------------


def _demo_world():
    from django.contrib.auth import get_user_model

    from accounts.models import BearSMSAccount
    from messaging.models import OutgoingMessage

    operator = get_user_model().objects.get(username="operator")
    _until(OutgoingMessage.objects.exists, 60, "the worker to sync the demo traffic")
    acme = BearSMSAccount.objects.get(username="acme")
    return operator, acme


def _transfer(operator, acme) -> None:
    from decimal import Decimal

    from accounts import services

    # the 1,200-row bulk file needs more credit than the demo reseller starts with
    services.credit_add(
        actor=operator, account=acme, amount=Decimal(2000), reason="Campaign top-up"
    )
    sales = acme.subaccounts.get(username="acme-sales")
    services.credit_transfer(
        actor=operator, source=acme, target=sales, amount=Decimal(40), reason="Spring campaign"
    )


def _send(operator, acme):
    """A send to three numbers and a phonebook group, followed until every outcome is in."""
    from messaging.selectors import delivery_of
    from messaging.services import sending

    send = sending.send_message(
        actor=operator,
        account=acme,
        recipients="+14152345601, +14152345602, +14152345603 #leads",
        text="Spring sale: 20% off everything this weekend in all Acme stores. Show this SMS "
        "at the till.",
        confirmed=True,
    )

    def outcomes_in():
        send.refresh_from_db()
        rows = list(send.destinations.exclude(smslog_id=None))
        delivery = delivery_of(send, rows)
        final = [r for r in rows if getattr(delivery.get(r.smslog_id), "is_final", False)]
        return not send.is_active and rows and len(final) == len(rows)

    _until(outcomes_in, 90, "the send's delivery reports")
    return send


def _bulk_file(operator, acme, var: Path):
    """A checked 1,200-row file with a few bad rows, mapped and ready to send."""
    from django.core.files import File

    from messaging.models import RecipientFile
    from messaging.services import bulk

    path = var / "bookings-friday.csv"
    with open(path, "w") as handle:
        handle.write("Name,Mobile,Restaurant,Time\n")
        for i in range(BULK_ROWS):
            number = "n/a" if i in (6, 431, 1107) else f"+1 415 234 {i:04d}"
            handle.write(f"Guest {i},{number},{RESTAURANTS[i % 5]},{18 + i % 4}:30\n")
    with open(path, "rb") as handle:
        upload = File(handle, name=path.name)
        recipient_file = bulk.recipient_file_upload(actor=operator, account=acme, upload=upload)
    bulk.recipient_file_map(
        actor=operator,
        recipient_file=recipient_file,
        header=True,
        number_column=1,
        text="Hi {name}, your table at {restaurant} is booked for {time} tonight. "
        "Reply STOP to opt out.",
    )
    _until(
        lambda: RecipientFile.objects.filter(
            pk=recipient_file.pk, state=RecipientFile.State.CHECKED
        ).exists(),
        60,
        "the worker to check the file",
    )
    recipient_file.refresh_from_db()
    return recipient_file


# --- the photographs -----------------------------------------------------------------------------


def _shoot(page, name: str, path: str | None = None, *, settle_ms: int = 0) -> None:
    if path is not None:
        response = page.goto(f"{BASE}{path}")
        assert response is not None and response.ok, f"{path}: HTTP {response and response.status}"
    if settle_ms:
        page.wait_for_timeout(settle_ms)
    page.screenshot(path=str(OUT / name), full_page=True)
    print(f"wrote {OUT / name}")


def _log_in(page) -> None:
    from accounts.management.commands.seed_demo import DEMO_OPERATOR

    page.fill("#id_username", DEMO_OPERATOR[0])
    page.fill("#id_password", DEMO_OPERATOR[1])
    with page.expect_navigation(url=f"{BASE}/"):
        page.click("form button[type=submit]")


def _compose(page) -> None:
    page.goto(f"{BASE}/send/")
    page.select_option("#id_account", label="acme (reseller)")
    page.fill(
        "#id_text",
        "Our new store opens on Saturday at 10:00 [Main St]: the first 100 customers get a 5€ "
        "gift card, and parking is free all day. Reply STOP to opt out. See you, the Acme team!",
    )
    page.click("#id_recipients")
    page.keyboard.type("+14152345601, +14152345602\n+14152345603 @globex #lea")
    page.wait_for_selector("#picker button")  # the phonebook search for "lea" came back
    _shoot(page, "send-compose.png")


def _bulk_in_progress(page, operator, recipient_file) -> None:
    from bearsms_portal.sandbox import faults
    from messaging.models import SendDestination
    from messaging.services import bulk

    _shoot(page, "bulk-send-review.png", f"/messages/bulk/{recipient_file.pk}/")
    faults.set_fault("pv", "latency_ms", 60)
    send = bulk.bulk_send_start(actor=operator, recipient_file=recipient_file)
    try:
        submitted = SendDestination.objects.filter(send=send, state="submitted")
        _until(lambda: submitted.count() > BULK_ROWS * 0.3, 120, "the bulk send to get going")
        _shoot(
            page, "bulk-send-progress.png", f"/messages/bulk/{recipient_file.pk}/", settle_ms=2500
        )  # a few live updates of the counters
    finally:
        bulk.send_cancel(actor=operator, send=send)
        faults.delete_rule("pv")


def _photograph(operator, acme, send, recipient_file) -> None:
    sys.path.insert(0, str(ROOT))
    from tests.browser import chromium  # the tests' launcher: Debian's chromium, headless

    with chromium() as browser:
        page = browser.new_context(viewport=VIEWPORT).new_page()
        page.set_default_timeout(20_000)
        _shoot(page, "login.png", "/login/")
        _log_in(page)
        _shoot(page, "dashboard.png")
        _compose(page)
        _shoot(page, "send-detail.png", f"/send/{send.pk}/", settle_ms=1500)
        _shoot(page, "outgoing.png", "/messages/outgoing/")
        _shoot(page, "accounts-list.png", "/accounts/")
        _shoot(page, "account-detail.png", f"/accounts/{acme.pk}/")
        _shoot(page, "transfers.png", "/accounts/transfers/")
        _shoot(page, "sync-health.png", "/messages/sync/")
        _bulk_in_progress(page, operator, recipient_file)


def main() -> None:
    with socket.socket() as sock:
        if sock.connect_ex(("127.0.0.1", PORT)) == 0:
            raise SystemExit(f"port {PORT} is in use: set SCREENSHOT_PORT to a free port")
    var = Path(tempfile.mkdtemp(prefix="bearsms-screenshots-"))
    env = _environment(var)
    try:
        for command in ("migrate", "seed_demo"):
            subprocess.run(
                [sys.executable, "manage.py", command, "-v", "0"], cwd=ROOT, env=env, check=True
            )
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        with _processes(env, var):
            operator, acme = _demo_world()
            _transfer(operator, acme)
            send = _send(operator, acme)
            recipient_file = _bulk_file(operator, acme, var)
            _photograph(operator, acme, send, recipient_file)
    finally:
        shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    main()
