"""Issue 11: the portal's own styled 404, 403 and lock-out pages in both DEBUG modes, a
favicon, and no traceback on the console for a 403."""

from __future__ import annotations

import logging
import sys

import pytest
from django.urls import reverse

from bearsms_portal.logging import QuietForbidden

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("debug", [True, False])
def test_404_is_the_portals_page_in_both_modes(client, operator_user, settings, debug):
    settings.DEBUG = debug
    client.force_login(operator_user)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html and "Back to the dashboard" in html
    assert "URLconf" not in html  # not Django's technical page
    assert 'rel="icon"' in html


@pytest.mark.parametrize("debug", [True, False])
def test_403_is_the_portals_page_in_both_modes(client, django_user_model, settings, debug):
    settings.DEBUG = debug
    nobody = django_user_model.objects.create_user(username="nobody", password="x-password-1")
    client.force_login(nobody)
    response = client.get(reverse("accounts:list"))
    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()


def test_403_logs_one_line_without_a_traceback():
    try:
        raise PermissionError("refused")
    except PermissionError:
        record = logging.LogRecord(
            "django.request", logging.WARNING, __file__, 1, "Forbidden", (), sys.exc_info()
        )
    record.status_code = 403
    assert QuietForbidden().filter(record) and record.exc_info is None
    formatted = logging.Formatter().format(record)
    assert "Traceback" not in formatted and formatted == "Forbidden"


@pytest.mark.parametrize("debug", [True, False])
def test_lock_out_page_says_for_how_long_and_links_back(client, operator_user, settings, debug):
    settings.DEBUG = debug
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "op", "password": "wrong-password"})
    response = client.post(reverse("login"), {"username": "op", "password": "op-password-123"})
    assert response.status_code in (403, 429)
    html = response.content.decode()
    assert "Login locked" in html and "15 min" in html
    assert reverse("login") in html and 'class="navbar' in html


def test_favicon(client):
    assert client.get("/favicon.ico").status_code in (301, 302)


def test_console_drops_the_sandbox_api_lines_only():
    from bearsms_portal.logging import QuietSandboxRequests

    def line(text, status):
        record = logging.LogRecord(
            "django.server", logging.INFO, __file__, 1, '"%s" %s %s', (text, status, "99"), None
        )
        return QuietSandboxRequests().filter(record)

    assert not line("POST /sandbox/index.php?app=ws HTTP/1.1", "200")
    assert line("POST /sandbox/index.php?app=ws HTTP/1.1", "500")
    assert line("GET /messages/outgoing/ HTTP/1.1", "200")
