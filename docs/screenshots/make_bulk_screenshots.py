"""Make the screenshots of a bulk send: the checked file (preview, bad rows) and the send in
progress.

    .venv/bin/python docs/screenshots/make_bulk_screenshots.py

Runs the portal on a throw-away SQLite database with the built-in sandbox (runserver), uploads a
2,000-row file through the portal's own services, and submits it from this process while the
sandbox answers ``pv`` slowly (a latency fault), so the page is photographed mid-send with
Debian's chromium (Playwright, headless). The send is cancelled afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_accounts_screenshots import (  # noqa: E402 - a sibling script
    BASE,
    DEMO_PASSWORD,
    OUT,
    PORT,
    ROOT,
    _port_is_free,
    _session_cookie,
    _wait_for,
)

ROWS = 2_000
RESTAURANTS = ["Luigi's", "The Blue Door", "Sakura", "Casa Lola", "Green Fork"]


def _world(var: Path):
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.files import File

    from accounts.models import BearSMSAccount
    from bearsms_portal.sandbox.services import world
    from messaging.services import bulk

    world.ensure_main_admin(settings.BEARSMS_ADMIN_USERNAME, token=settings.BEARSMS_ADMIN_TOKEN)
    _, token = world.create_user("acme", credit=50_000, name="Acme Bookings")
    account = BearSMSAccount(username="acme", name="Acme Bookings")
    account.store_token(token)
    account.save()
    operator = get_user_model().objects.create_user(
        "operator", password=DEMO_PASSWORD, is_staff=True, is_superuser=True
    )
    path = var / "bookings-friday.csv"
    with open(path, "w") as handle:
        handle.write("Name,Mobile,Restaurant,Time\n")
        for i in range(ROWS):
            number = f"+1 415 234 {i:04d}"
            if i in (6, 431, 1207):
                number = "n/a"
            elif i in (9, 818):
                number = f"+1 415 234 {i - 3:04d}"
            elif i == 1500:
                number = ""
            handle.write(f"Guest {i},{number},{RESTAURANTS[i % 5]},{18 + i % 4}:30\n")
    bulk.enqueue = lambda _task, file_id: bulk.recipient_file_check(file_id=file_id)
    with open(path, "rb") as handle:
        recipient_file = bulk.recipient_file_upload(
            actor=operator, account=account, upload=File(handle, name=path.name)
        )
    bulk.recipient_file_map(
        actor=operator,
        recipient_file=recipient_file,
        header=True,
        number_column=1,
        text="Hi {name}, your table at {restaurant} is booked for {time} tonight. "
        "Reply STOP to opt out.",
    )
    recipient_file.refresh_from_db()
    return operator, recipient_file


def main() -> None:
    if not _port_is_free(PORT):
        raise SystemExit(f"port {PORT} is in use: set SCREENSHOT_PORT to a free port")
    var = Path(tempfile.mkdtemp(prefix="bulk-shots-"))
    env = {
        **os.environ,
        "VAR_DIR": str(var),
        "PORTAL_URL": BASE,
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{var / 'portal.sqlite3'}",
        "REDIS_URL": "",
        "DJANGO_SETTINGS_MODULE": "bearsms_portal.settings",
    }
    env.pop("BEARSMS_URL", None)
    python = sys.executable
    subprocess.run(
        [python, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    server = subprocess.Popen(
        [python, "manage.py", "runserver", f"127.0.0.1:{PORT}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sender = None
    try:
        _wait_for(f"{BASE}/login/")
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from bearsms_portal.sandbox import faults
        from messaging.models import SendDestination
        from messaging.services import bulk, sending

        operator, recipient_file = _world(var)
        cookie = _session_cookie(operator)
        page_url = f"{BASE}/messages/bulk/{recipient_file.pk}/"
        _photograph(cookie, [("bulk-send-review.png", page_url, None)])

        faults.set_fault("pv", "latency_ms", 120)
        bulk.start_send = lambda send: None  # submitted below, from this process
        send = bulk.bulk_send_start(actor=operator, recipient_file=recipient_file)
        sender = threading.Thread(
            target=sending.submit_send, kwargs={"send_id": send.pk}, daemon=True
        )
        sender.start()
        while SendDestination.objects.filter(send=send, state="submitted").count() < ROWS * 0.35:
            time.sleep(0.5)
        _photograph(cookie, [("bulk-send-progress.png", page_url, 2.5)])
        bulk.send_cancel(actor=operator, send=send)
    finally:
        if sender is not None:
            sender.join(timeout=60)
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(var, ignore_errors=True)


def _photograph(session_key: str, shots) -> None:
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu"],
            headless=True,
        )
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        context.add_cookies(
            [{"name": "sessionid", "value": session_key, "domain": "127.0.0.1", "path": "/"}]
        )
        page = context.new_page()
        for filename, url, settle in shots:
            page.goto(url)
            if settle:
                page.wait_for_timeout(settle * 1000)  # a few live updates of the counters
            page.screenshot(path=str(OUT / filename), full_page=True)
            print(f"wrote {OUT / filename}")
        browser.close()


if __name__ == "__main__":
    main()
