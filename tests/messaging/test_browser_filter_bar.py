"""Issue 11, acceptance 3: at 1400 px and 390 px wide the message filter bar fits without
overlapping controls, and the pages log no console errors. (``make screenshots`` photographs
these pages for the README.)"""

from __future__ import annotations

import pytest
from django.core.management import call_command

from accounts.management.commands.seed_demo import DEMO_OPERATOR
from accounts.models import BearSMSAccount
from tests.browser import browser_page, log_in, requires_chromium

pytestmark = [pytest.mark.browser, requires_chromium, pytest.mark.django_db(transaction=True)]


def _overlaps(a, b) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"] + 0.5
        or b["x"] + b["width"] <= a["x"] + 0.5
        or a["y"] + a["height"] <= b["y"] + 0.5
        or b["y"] + b["height"] <= a["y"] + 0.5
    )


@pytest.mark.parametrize("width", [1400, 390])
def test_filter_bar_fits_and_pages_log_no_errors(live_server, width):
    call_command("seed_demo")
    base = live_server.url
    with browser_page(viewport=(width, 900)) as page:
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        log_in(page, base, *DEMO_OPERATOR)
        page.goto(f"{base}/messages/outgoing/")
        bar = page.locator("#message-filters")
        box = bar.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5
        controls = bar.locator("input:visible, select:visible, .btn:visible")
        boxes = [controls.nth(i).bounding_box() for i in range(controls.count())]
        assert len(boxes) >= 8
        for i, one in enumerate(boxes):
            assert (
                one["x"] >= box["x"] - 0.5
                and one["x"] + one["width"] <= box["x"] + box["width"] + 0.5
            ), f"control {i} sticks out of the bar at {width}px"
            for j in range(i + 1, len(boxes)):
                assert not _overlaps(one, boxes[j]), f"controls {i} and {j} overlap at {width}px"
        # the page does not scroll sideways because of the bar
        assert (
            page.evaluate("document.querySelector('#message-filters').scrollWidth")
            <= box["width"] + 1
        )
        account = BearSMSAccount.objects.order_by("pk").first()
        for path in (
            "/messages/outgoing/",
            "/accounts/",
            f"/accounts/{account.pk}/",
            "/",
            "/messages/sync/",
        ):
            page.goto(f"{base}{path}")
            page.wait_for_load_state("networkidle")
        assert errors == []
