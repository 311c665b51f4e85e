"""The operator's main path through the accounts pages in a real browser (Debian's chromium),
against the live sandbox: log in, create a reseller, find it in the table, ban it through the
confirmation step; then another reseller logs in and gets a 404 for it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.models import BearSMSAccount, PortalProfile
from tests.browser import browser_page, log_in, requires_chromium

from .conftest import PASSWORD, make_account, portal_user

pytestmark = [pytest.mark.browser, requires_chromium, pytest.mark.django_db(transaction=True)]

OPERATOR_PASSWORD = "op-password-123"  # the operator_user fixture's


def test_operator_creates_and_bans_a_reseller_another_reseller_cannot_see_it(
    live_sandbox_documented, live_server, operator_user, django_user_model
):
    rival = make_account(operator_user, live_sandbox_documented, "rival", link=False)
    portal_user(django_user_model, "rival-portal", PortalProfile.Role.RESELLER, rival)
    base = live_server.url

    with browser_page() as page:
        page.set_default_timeout(10_000)
        log_in(page, base, operator_user.username, OPERATOR_PASSWORD)

        # Create a reseller through the form.
        page.goto(f"{base}/accounts/new/")
        page.fill("#id_username", "acme")
        page.fill("#id_password", PASSWORD)
        page.fill("#id_name", "Acme Ltd")
        page.fill("#id_email", "ops@acme.example.org")
        page.select_option("#id_level", str(BearSMSAccount.Level.USER))
        page.get_by_role("button", name="Create account").click()
        page.wait_for_url(re.compile(r"/accounts/\d+/$"))
        expect(page.locator("h1")).to_contain_text("acme")

        # It is in the accounts table; its username opens the detail page.
        page.goto(f"{base}/accounts/")
        row = page.locator("table tbody tr", has_text="acme")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("Acme Ltd")
        row.get_by_role("link", name="acme", exact=True).click()
        page.wait_for_url(re.compile(r"/accounts/\d+/$"))
        detail_url = page.url
        expect(page.locator(".badge", has_text="active")).to_be_visible()

        # Ban it: the first click only asks for confirmation.
        page.get_by_role("link", name="Ban", exact=True).click()
        page.wait_for_url(re.compile(r"/ban/$"))
        expect(page.locator("h1")).to_have_text("Ban this account?")
        assert not BearSMSAccount.objects.get(username="acme").is_banned
        page.get_by_role("button", name="Ban", exact=True).click()
        page.wait_for_url(detail_url)
        expect(page.locator(".badge", has_text=re.compile(r"^banned$"))).to_be_visible()
        expect(page.get_by_text("acme is banned.")).to_be_visible()
        assert BearSMSAccount.objects.get(username="acme").is_banned
        assert (
            live_sandbox_documented.user("acme").banned_at is not None
        )  # banned on the server too

        # Another reseller logs in and cannot reach it.
        page.context.clear_cookies()
        log_in(page, base, "rival-portal", PASSWORD)
        response = page.goto(detail_url)
        assert response.status == 404
        page.goto(f"{base}/accounts/")
        expect(page.locator("table tbody")).to_contain_text("rival")
        expect(page.locator("table tbody")).not_to_contain_text("acme")
