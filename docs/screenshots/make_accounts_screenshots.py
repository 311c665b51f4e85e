"""Make the two operator screenshots of the accounts pages (list and detail).

    .venv/bin/python docs/screenshots/make_accounts_screenshots.py

Runs the portal on a throw-away SQLite database with the built-in sandbox, builds a small world
through the portal's own services (over HTTP to the sandbox), logs the operator in with a
session cookie and photographs the pages with Debian's chromium (Playwright, headless).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
DEMO_PASSWORD = "Demo-pass-1"  # noqa: S105 - a throw-away demo world
PORT = int(os.environ.get("SCREENSHOT_PORT", "8791"))
BASE = f"http://127.0.0.1:{PORT}"


def _wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 - a local URL
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the portal did not start at {url}")


def _world():
    from decimal import Decimal

    from django.conf import settings
    from django.contrib.auth import get_user_model

    from accounts import services
    from accounts.models import BearSMSAccount
    from bearsms_portal.sandbox.models import SandboxUser
    from bearsms_portal.sandbox.services.accounts import enable_webservices
    from bearsms_portal.sandbox.services.world import LOCAL_IPS, ensure_main_admin

    ensure_main_admin(settings.BEARSMS_ADMIN_USERNAME, token=settings.BEARSMS_ADMIN_TOKEN)
    op = get_user_model().objects.create_user(
        "operator", password=DEMO_PASSWORD, is_staff=True, is_superuser=True
    )
    level = BearSMSAccount.Level
    people = [
        ("acme", level.USER, None, "Acme Retail"),
        ("acme-shop1", level.SUBACCOUNT, "acme", "Shop 1"),
        ("acme-shop2", level.SUBACCOUNT, "acme", "Shop 2"),
        ("bluebird", level.USER, None, "Bluebird Travel"),
        ("bluebird-ops", level.SUBACCOUNT, "bluebird", "Ops desk"),
        ("citycab", level.USER, None, "City Cab Co"),
    ]
    made = {}
    for username, lvl, parent, name in people:
        account = services.account_create(
            actor=op,
            username=username,
            password=DEMO_PASSWORD,
            name=name,
            email=f"{username}@example.org",
            level=lvl,
            parent=made.get(parent),
        )
        if username != "citycab":
            enable_webservices(
                SandboxUser.objects.get(username=username, deleted=False), ip_list=LOCAL_IPS
            )
            account = services.account_link(actor=op, account=account)
        made[username] = account
    services.credit_add(actor=op, account=made["acme"], amount=Decimal(500), reason="Invoice 1041")
    services.credit_add(
        actor=op, account=made["bluebird"], amount=Decimal(120), reason="Invoice 1042"
    )
    services.credit_transfer(
        actor=op,
        source=made["acme"],
        target=made["acme-shop1"],
        amount=Decimal(50),
        reason="Spring campaign",
    )
    services.credit_deduct(
        actor=op, account=made["acme"], amount=Decimal(5), reason="Correction of invoice 1041"
    )
    services.account_conf(actor=op, account=made["acme"], footer="Acme Retail", timezone="+0100")
    services.account_ban(actor=op, account=made["acme-shop2"])
    for account in made.values():
        services.credit_refresh(actor=op, account=account)
    return op, made["acme"]


def _session_cookie(user) -> str:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def _port_is_free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def main() -> None:
    if not _port_is_free(PORT):
        raise SystemExit(f"port {PORT} is in use: set SCREENSHOT_PORT to a free port")
    var = Path(tempfile.mkdtemp(prefix="accounts-shots-"))
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
        [python, "manage.py", "runserver", f"127.0.0.1:{PORT}", "--noreload", "--nothreading"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(f"{BASE}/login/")
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        operator, acme = _world()
        cookie = _session_cookie(operator)
        _photograph(
            cookie,
            [
                ("accounts-list.png", f"{BASE}/accounts/"),
                ("account-detail.png", f"{BASE}/accounts/{acme.pk}/"),
            ],
        )
    finally:
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
        for filename, url in shots:
            page.goto(url)
            page.screenshot(path=str(OUT / filename), full_page=True)
            print(f"wrote {OUT / filename}")
        browser.close()


if __name__ == "__main__":
    main()
