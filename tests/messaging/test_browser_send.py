"""The compose page in a real browser (Debian's chromium): the JS counter agrees with the
server's count_segments on every case of the acceptance, and the live counter and the send
page's live status work without a reload."""

from __future__ import annotations

import pytest

from bearsms_portal.celery import app
from messaging import tasks  # noqa: F401 (registers the tasks for eager runs)
from messaging.models import Send
from messaging.segments import count_segments
from tests.browser import browser_page, log_in, requires_chromium

from .conftest import link_account, portal_user
from .segment_cases import CASES

pytestmark = [pytest.mark.browser, requires_chromium, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-123456789"


def test_js_counter_agrees_with_the_server_function(live_sandbox_documented, live_server):
    rita = link_account(live_sandbox_documented, "rita", credit=100)
    portal_user("rita-portal", role="reseller", account=rita)
    with browser_page() as page:
        log_in(page, live_server.url, "rita-portal", PASSWORD)
        page.goto(f"{live_server.url}/send/")
        texts = [text for _, text, *_ in CASES]
        in_browser = page.evaluate(
            "(texts) => texts.map((t) => window.BearSMSSegments.countSegments(t))", texts
        )
        for (name, text, *_), js in zip(CASES, in_browser, strict=True):
            server = count_segments(text)
            assert (js["characters"], js["encoding"], js["segments"], js["per_segment"]) == (
                server.characters,
                server.encoding,
                server.segments,
                server.per_segment,
            ), name

        # The live counter: footer "@rita" (6 with its space) counts, recipients multiply.
        page.fill("#id_recipients", "+14152345678, +14152345679 +14152345678")
        page.fill("#id_text", "a" * 154)
        counter = page.locator("#counter")
        assert counter.locator("[data-characters]").inner_text() == "160"
        assert counter.locator("[data-segments]").inner_text() == "1"
        assert counter.locator("[data-recipients]").inner_text() == "2"
        page.fill("#id_text", "a" * 155)
        assert counter.locator("[data-segments]").inner_text() == "2"
        assert counter.locator("[data-total]").inner_text() == "4"
        page.uncheck("#id_footer")
        assert counter.locator("[data-characters]").inner_text() == "155"
        page.fill("#id_text", "Привет")
        assert counter.locator("[data-encoding]").inner_text() == "UCS-2 (Unicode)"


def test_send_page_follows_the_send_without_reload(live_sandbox_documented, live_server):
    rita = link_account(live_sandbox_documented, "rita", credit=100)
    portal_user("rita-portal", role="reseller", account=rita)
    app.conf.task_always_eager = True
    try:
        with browser_page() as page:
            log_in(page, live_server.url, "rita-portal", PASSWORD)
            page.goto(f"{live_server.url}/send/")
            page.fill("#id_recipients", "+14152345678")
            page.fill("#id_text", "Hello from the browser")
            page.click("#compose-form button[type=submit]")
            page.wait_for_url("**/send/*/")
            send = Send.objects.get()
            assert page.url == f"{live_server.url}/send/{send.pk}/"
            row = page.locator("#destinations tbody tr").first
            assert row.locator("[data-state]").inner_text() == "Submitted"
            # The sync brings the delivery status in; the page shows it without a reload.
            live_sandbox_documented.settle()
            from messaging import sync
            from messaging.models import Feed

            from .conftest import cursor_of

            sync.pull(cursor=cursor_of(rita, Feed.OUTGOING))
            page.wait_for_function(
                "() => document.querySelector('#destinations [data-delivery]')"
                ".textContent.trim() === 'Delivered'",
                timeout=15000,
            )
    finally:
        app.conf.task_always_eager = False
