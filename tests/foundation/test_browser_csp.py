"""Under the Content-Security-Policy, in a real browser (Debian's chromium): pages that run
scripts — the dashboard, a message list, compose, a bulk file's column mapping — report no
policy violation, and the scripts moved out of the templates still work."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import BearSMSAccount
from messaging.services.bulk import recipient_file_upload
from tests.browser import browser_page, log_in, requires_chromium
from tests.messaging.conftest import portal_user

pytestmark = [pytest.mark.browser, requires_chromium, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-123456789"

# Every violation the page meets, kept where the test can read it.
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


def test_pages_run_their_scripts_without_a_policy_violation(live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    account = BearSMSAccount(username="alice")
    account.store_token("t" * 32)
    account.save()
    user = portal_user("alice-portal", role="reseller", account=account)
    upload = SimpleUploadedFile("list.csv", b"Name,Mobile\nAnn,+14155550101\n")
    recipient_file = recipient_file_upload(actor=user, account=account, upload=upload)
    console = []
    with browser_page() as page:
        page.add_init_script(WATCH)
        page.on("console", lambda message: console.append(message.text))
        log_in(page, live_server.url, "alice-portal", PASSWORD)
        for path in ("/", reverse("messaging:list", args=["outgoing"]), "/send/"):
            page.goto(f"{live_server.url}{path}")
            page.wait_for_load_state("load")
            assert page.evaluate("window.__csp") == [], path
        page.goto(f"{live_server.url}{reverse('messaging:bulk_map', args=[recipient_file.pk])}")
        page.wait_for_load_state("load")
        fields = page.locator("#fields")
        assert "{name}" in fields.inner_text()
        page.uncheck("#id_header")  # bulk_mapping.js names the columns by number now
        assert "{name}" not in fields.inner_text()
        assert page.evaluate("window.__csp") == []
    assert not [text for text in console if "Content Security Policy" in text], console
