"""Login, role-independent layout, error pages and /healthz."""

import json

import pytest
from django.test import override_settings
from django.urls import reverse

from accounts.management.commands.seed_demo import DEMO_OPERATOR

pytestmark = pytest.mark.django_db


def test_login_page_renders(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b"Log in to BearSMS Portal" in response.content
    assert b"bootstrap.min.css" in response.content
    assert b"cdn" not in response.content.lower()


def test_demo_operator_can_log_in(client):
    from django.core.management import call_command

    call_command("seed_demo")
    call_command("seed_demo")  # idempotent
    username, password = DEMO_OPERATOR
    response = client.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_wrong_password_is_refused_and_throttled(client):
    from django.core.management import call_command

    call_command("seed_demo")
    username, _ = DEMO_OPERATOR
    for _ in range(5):
        response = client.post(reverse("login"), {"username": username, "password": "nope"})
    response = client.post(reverse("login"), {"username": username, "password": DEMO_OPERATOR[1]})
    assert response.status_code in (403, 429)


def test_pages_need_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


@override_settings(DEBUG=False)
def test_404_page(client, operator_user):
    client.force_login(operator_user)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert b"Page not found" in response.content


def test_healthz_reports_every_dependency(live_server, client, settings, operator_user):
    settings.BEARSMS_URL = f"{live_server.url}/sandbox"
    client.force_login(operator_user)  # details are for operators
    response = client.get("/healthz")
    body = json.loads(response.content)
    assert response.status_code == 200, body
    assert set(body["checks"]) >= {"database", "broker", "bearsms"}
    for name in ("database", "broker", "bearsms"):
        assert body["checks"][name]["ok"] is True
        assert "latency_ms" in body["checks"][name]
    assert settings.BEARSMS_ADMIN_TOKEN not in response.content.decode()
    assert settings.SECRET_KEY not in response.content.decode()


def test_healthz_is_503_when_bearsms_is_down(client, settings):
    settings.BEARSMS_URL = "http://127.0.0.1:9/sandbox"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert json.loads(response.content)["checks"]["bearsms"]["ok"] is False


def test_healthz_without_login_says_only_up_or_down(client, settings, django_user_model):
    settings.BEARSMS_URL = "http://127.0.0.1:9/sandbox"
    for user in (None, django_user_model.objects.create_user("plain", password="x-pass-123")):
        if user is not None:
            from accounts.models import PortalProfile

            PortalProfile.objects.create(user=user, role=PortalProfile.Role.SUBACCOUNT)
            client.force_login(user)
        body = json.loads(client.get("/healthz").content)
        assert body["status"] == "down"
        assert set(body["checks"]) >= {"database", "broker", "bearsms"}
        for check in body["checks"].values():
            assert set(check) == {"ok"}  # no latency, vendor or error class
        assert body["checks"]["bearsms"] == {"ok": False}
