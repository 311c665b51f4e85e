"""Make the screenshots of sending: the compose page with its live counter, and a send page.

    .venv/bin/python docs/screenshots/make_send_screenshots.py

Same harness as ``make_accounts_screenshots.py`` (a throw-away SQLite database, the portal and
its built-in sandbox on a local port, Debian's chromium through Playwright). The world is built
through the portal's services; the send is submitted in this process (no Celery worker needed),
the sandbox's daemon is stepped forward and the sync pulls the delivery statuses in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_accounts_screenshots as base  # noqa: E402

ROOT, OUT, BASE = base.ROOT, base.OUT, base.BASE
PASSWORD = base.DEMO_PASSWORD


def _world():
    from datetime import timedelta
    from decimal import Decimal

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from accounts import services
    from accounts.models import BearSMSAccount, PortalProfile
    from bearsms_portal.sandbox.models import SandboxUser
    from bearsms_portal.sandbox.services import lifecycle, phonebook
    from bearsms_portal.sandbox.services.accounts import enable_webservices
    from bearsms_portal.sandbox.services.world import LOCAL_IPS, ensure_main_admin
    from messaging import sync
    from messaging.models import Feed, SyncCursor
    from messaging.services import sending

    ensure_main_admin(settings.BEARSMS_ADMIN_USERNAME, token=settings.BEARSMS_ADMIN_TOKEN)
    op = get_user_model().objects.create_user(
        "operator", password=PASSWORD, is_staff=True, is_superuser=True
    )
    PortalProfile.objects.create(user=op, role="", time_zone="Europe/Paris")
    acme = services.account_create(
        actor=op,
        username="acme",
        password=PASSWORD,
        name="Acme Retail",
        email="acme@example.org",
        level=BearSMSAccount.Level.USER,
    )
    enable_webservices(SandboxUser.objects.get(username="acme", deleted=False), ip_list=LOCAL_IPS)
    acme = services.account_link(actor=op, account=acme)
    services.credit_add(actor=op, account=acme, amount=Decimal(500), reason="Invoice 1041")
    services.account_conf(actor=op, account=acme, footer="Acme Retail")
    services.account_create(
        actor=op,
        username="citycab",
        password=PASSWORD,
        name="City Cab",
        email="cab@example.org",
        level=BearSMSAccount.Level.USER,
    )
    owner = SandboxUser.objects.get(username="acme", deleted=False)
    group = phonebook.add_group(owner, name="Store managers", code="MANAGERS")
    for i, name in enumerate(["Ann Lee", "Bo Chan", "Cy Diaz"]):
        phonebook.add_contact(owner, name=name, mobile=f"+1415234{5610 + i}", groups=[group])
    acme.refresh_from_db()
    send = sending.send_message(
        actor=op,
        account=acme,
        recipients="+14152345601, (415)234-5602 +14152345601 #managers @citycab",
        text="Spring sale: 20% off everything this weekend in all Acme stores. Show this SMS "
        "at the till.",
        confirmed=True,
    )
    sending.submit_send(send_id=send.pk)
    later = timezone.now() + timedelta(seconds=120)
    lifecycle.tick(now=later)
    lifecycle.tick(now=later + timedelta(seconds=120))
    cursor, _ = SyncCursor.objects.get_or_create(account=acme, feed=Feed.OUTGOING)
    sync.pull(cursor=cursor)
    return op, send


def main() -> None:
    if not base._port_is_free(base.PORT):
        raise SystemExit(f"port {base.PORT} is in use: set SCREENSHOT_PORT to a free port")
    var = Path(tempfile.mkdtemp(prefix="send-shots-"))
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
        [python, "manage.py", "runserver", f"127.0.0.1:{base.PORT}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base._wait_for(f"{BASE}/login/")
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        operator, send = _world()
        _photograph(base._session_cookie(operator), send)
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(var, ignore_errors=True)


def _photograph(session_key: str, send) -> None:
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
        page.goto(f"{BASE}/send/")
        page.select_option("#id_account", label="acme (reseller)")
        page.fill(
            "#id_text",
            "Our new store opens on Saturday at 10:00 [Main St]: the first 100 "
            "customers get a 5€ gift card. Reply STOP to opt out. See you there, the Acme team!",
        )
        page.fill("#id_schedule", "2027-03-05T10:30")
        page.click("#id_recipients")
        page.keyboard.type("+14152345601, +14152345602\n+14152345603 @citycab #man")
        page.wait_for_selector("#picker button")  # the phonebook search for "man" came back
        page.screenshot(path=str(OUT / "send-compose.png"), full_page=True)
        print(f"wrote {OUT / 'send-compose.png'}")
        page.goto(f"{BASE}/send/{send.pk}/")
        page.wait_for_timeout(1500)  # one poll of the status JSON
        page.screenshot(path=str(OUT / "send-detail.png"), full_page=True)
        print(f"wrote {OUT / 'send-detail.png'}")
        browser.close()


if __name__ == "__main__":
    main()
