"""Acceptance 5 of issue 10: a new subaccount is linked with no shell, in a real browser.

A reseller creates a subaccount (the server creates it with webservices off: not linked), opens
it in BearSMS (``loginkeyset`` + ``ws_login``) and, on the sandbox's user configuration page,
enables webservices for the portal's IP and generates a token; back on the portal, "Link now"
fetches the token with the password the portal kept, and the account shows as linked.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.models import AuditEntry, BearSMSAccount, PortalProfile
from tests.browser import browser_page, requires_chromium

from .conftest import PASSWORD, make_account, portal_user
from .test_browser_accounts import log_in

pytestmark = [pytest.mark.browser, requires_chromium, pytest.mark.django_db(transaction=True)]


def test_reseller_creates_opens_enables_and_links_a_subaccount(
    live_sandbox_documented, live_server, operator_user, django_user_model
):
    sandbox = live_sandbox_documented
    reseller = make_account(operator_user, sandbox, "acme")
    portal_user(django_user_model, "acme-portal", PortalProfile.Role.RESELLER, reseller)
    base = live_server.url

    with browser_page() as page:
        page.set_default_timeout(15_000)
        log_in(page, base, "acme-portal", PASSWORD)
        page.goto(f"{base}/accounts/new/")
        page.fill("#id_username", "acme-shop")
        page.fill("#id_password", PASSWORD)
        page.fill("#id_name", "Acme Shop")
        page.fill("#id_email", "shop@acme.example.org")
        page.get_by_role("button", name="Create account").click()
        page.wait_for_url(re.compile(r"/accounts/\d+/$"))
        detail_url = page.url
        expect(page.locator(".badge", has_text="not linked")).to_be_visible()
        steps = page.locator("#link-steps")
        expect(steps).to_contain_text("Log in as acme-shop")
        expect(steps).to_contain_text("enable webservices")
        assert not sandbox.user("acme-shop").enable_webservices

        # Log in as: a new tab, logged in as the subaccount.
        with page.expect_popup() as opened:
            page.get_by_role("button", name="Log in as acme-shop").click()
        bearsms = opened.value
        bearsms.wait_for_load_state()
        expect(bearsms.locator("#who")).to_contain_text("acme-shop")
        bearsms.click("#preferences")
        bearsms.check("#enable_webservices")
        bearsms.fill("#webservices_ip", "127.0.0.1")
        bearsms.check("#new_token")
        bearsms.click("#save")
        expect(bearsms.locator("#saved")).to_be_visible()
        expect(bearsms.locator("#token-state")).to_have_text("Webservices token: set")
        bearsms.close()
        server = sandbox.user("acme-shop")
        assert server.enable_webservices and server.token and server.webservices_ip == "127.0.0.1"

        # Back in the portal: Link now (the portal kept the password it set).
        page.goto(detail_url)
        page.get_by_role("link", name="Link now").click()
        page.wait_for_url(re.compile(r"/link-now/$"))
        page.get_by_role("button", name="Link now").click()
        page.wait_for_url(detail_url)
        expect(page.locator(".badge", has_text=re.compile(r"^linked$"))).to_be_visible()

    account = BearSMSAccount.objects.get(username="acme-shop")
    assert account.is_linked and account.reveal_token() == sandbox.user("acme-shop").token
    assert AuditEntry.objects.filter(
        action="loginkeyset", target=account, outcome="success"
    ).exists()
    assert AuditEntry.objects.filter(action="get_token", target=account, outcome="success").exists()
