"""A person logs in with the demo operator in a real browser."""

import pytest
from django.core.management import call_command

from accounts.management.commands.seed_demo import DEMO_OPERATOR
from tests.browser import browser_page, requires_chromium

pytestmark = [pytest.mark.browser, requires_chromium, pytest.mark.django_db(transaction=True)]


def test_operator_logs_in_and_out(live_server):
    call_command("seed_demo")
    username, password = DEMO_OPERATOR
    with browser_page() as page:
        page.goto(f"{live_server.url}/")
        assert "Log in to BearSMS Portal" in page.content()
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        assert page.locator(".navbar-text").inner_text() == username
        page.click("text=Log out")
        page.wait_for_url("**/login/")


def test_wrong_password_shows_an_error(live_server):
    call_command("seed_demo")
    with browser_page() as page:
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", DEMO_OPERATOR[0])
        page.fill("#id_password", "wrong")
        page.click("button[type=submit]")
        assert "enter a correct username and password" in page.content()
