"""Acceptance 3: every fault switch, seen on the wire, deterministic under the seed."""

from __future__ import annotations

import json
import time

import pytest
import requests

from bearsms_portal.sandbox import faults
from bearsms_portal.sandbox.models import FaultRule

from .helpers import call


@pytest.fixture
def sandbox(live_sandbox):
    """Faults are seen on the wire: always over real HTTP."""
    return live_sandbox


def test_http500_fault_is_an_empty_500_for_that_op_only(sandbox):
    sandbox.set_fault("pv", "http500", 1)
    reply = call(sandbox, "pv", to="628111", msg="x")
    assert (reply.status_code, reply.content) == (500, b"")
    assert call(sandbox, "cr").json()["status"] == "OK"
    logged = sandbox.requests("pv")[-1]
    assert (logged.http_status, logged.fault) == (500, "http500")
    from bearsms_portal.sandbox.models import Outgoing

    assert not Outgoing.objects.exists()  # the op did not run


def test_garbage_fault_is_a_200_that_does_not_parse(sandbox):
    sandbox.set_fault("cr", "garbage", 1)
    reply = call(sandbox, "cr")
    assert reply.status_code == 200 and reply.content
    with pytest.raises(json.JSONDecodeError):
        json.loads(reply.text)


def test_html_error_fault_is_a_proxy_error_page(sandbox):
    sandbox.set_fault("ds", "html_error", 1)
    reply = call(sandbox, "ds")
    assert reply.status_code == 502
    assert reply.headers["Content-Type"].startswith("text/html")
    assert "<html>" in reply.text and "Bad Gateway" in reply.text


def test_hang_fault_outlasts_the_client_timeout(sandbox, settings):
    settings.SANDBOX_HANG_SECONDS = 2
    sandbox.set_fault("query", "hang", 1)
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        call(sandbox, "query", timeout=0.5)
    assert time.monotonic() - started < 2
    assert call(sandbox, "cr").json()["status"] == "OK"  # other ops are served meanwhile


def test_latency_is_added(sandbox):
    sandbox.set_fault("cr", "latency_ms", 400)
    started = time.monotonic()
    assert call(sandbox, "cr").json()["status"] == "OK"
    assert time.monotonic() - started >= 0.4


def test_star_applies_to_every_op_and_settings_are_a_source(sandbox, settings):
    sandbox.set_fault("*", "http500", 1)
    assert call(sandbox, "cr").status_code == 500
    assert call(sandbox, "query").status_code == 500
    sandbox.clear_faults()
    settings.SANDBOX_FAULTS = {"get_contact": {"garbage": 1}}
    assert call(sandbox, "get_contact", kwd="an").status_code == 200
    with pytest.raises(json.JSONDecodeError):
        call(sandbox, "get_contact", kwd="an").json()
    assert call(sandbox, "cr").json()["status"] == "OK"


def _pattern(sandbox, calls=24):
    return [call(sandbox, "cr").status_code for _ in range(calls)]


def test_fault_rates_are_deterministic_under_the_seed(sandbox, settings):
    settings.SANDBOX_SEED = 7
    sandbox.set_fault("cr", "http500", 0.5)
    first = _pattern(sandbox)
    assert set(first) == {200, 500}
    expected = [500 if faults._draw("cr", "http500", n) < 0.5 else 200 for n in range(1, 25)]
    assert first == expected
    sandbox.clear_faults()
    sandbox.set_fault("cr", "http500", 0.5)
    assert _pattern(sandbox) == first  # same seed, same faults
    sandbox.clear_faults()
    settings.SANDBOX_SEED = 8
    sandbox.set_fault("cr", "http500", 0.5)
    assert _pattern(sandbox) != first


def test_staff_page_sets_fault_switches(sandbox, client, operator_user, django_user_model):
    url = "/sandbox/faults/"
    assert client.get(url).status_code == 302  # staff only
    client.force_login(operator_user)
    page = client.get(url)
    assert page.status_code == 200 and b"Sandbox fault switches" in page.content
    response = client.post(
        url,
        {"op": "PV", "latency_ms": "", "http500": "1", "garbage": "", "html_error": "", "hang": ""},
    )
    assert response.status_code == 302
    assert FaultRule.objects.get(op="pv").http500 == 1
    assert call(sandbox, "pv", to="628111", msg="x").status_code == 500
    assert b"http500" in client.get(url).content  # the request log shows the fault


def test_staff_page_deletes_a_fault_rule(sandbox, client, operator_user):
    sandbox.set_fault("pv", "http500", 1)
    sandbox.set_fault("cr", "latency_ms", 5)
    client.force_login(operator_user)
    assert client.get("/sandbox/faults/delete").status_code == 405  # POST only
    response = client.post("/sandbox/faults/delete", {"op": "pv"}, follow=True)
    assert "Fault switches for pv deleted." in response.content.decode()
    assert list(FaultRule.objects.values_list("op", flat=True)) == ["cr"]
    assert call(sandbox, "pv", to="628111", msg="x").status_code == 200
    again = client.post("/sandbox/faults/delete", {"op": "pv"}, follow=True)
    assert "There were no fault switches for pv." in again.content.decode()


def test_nav_links_the_fault_page_for_staff(sandbox, client, operator_user):
    client.force_login(operator_user)
    assert b'href="/sandbox/faults/"' in client.get("/").content


def test_admin_never_shows_tokens(sandbox, client, django_user_model):
    boss = django_user_model.objects.create_superuser("boss", "boss@example.org", "boss-pass-123")
    client.force_login(boss)
    admin_account = sandbox.user("admin")
    page = client.get(f"/admin/sandbox/sandboxuser/{admin_account.pk}/change/")
    assert page.status_code == 200
    call(sandbox, "cr")
    log = client.get("/admin/sandbox/requestlog/")
    assert log.status_code == 200
    for content in (page.content, log.content):
        assert sandbox.admin_token.encode() not in content


def test_answer_only_pv_replies_like_a_queued_send_and_queues_nothing(sandbox, settings):
    """``SANDBOX_PV_ANSWER_ONLY`` (load tests of the portal): same reply shape, fresh ids,
    nothing queued; parameter checks and the request log as usual."""
    from bearsms_portal.sandbox.models import Outgoing, Queue

    settings.SANDBOX_PV_ANSWER_ONLY = True
    rows = [call(sandbox, "pv", to=to, msg="x").json()["data"][0] for to in ("+628111", "628112")]
    assert [(r["status"], r["error"], r["to"]) for r in rows] == [
        ("OK", "0", "+628111"),
        ("OK", "0", "628112"),
    ]
    assert rows[0]["smslog_id"] != rows[1]["smslog_id"]
    assert all(len(r["queue"]) == 64 for r in rows)
    refused = call(sandbox, "pv", to="abc", msg="x")  # no number left: as the profile says
    assert refused.status_code == 500 or refused.json()["data"][0]["status"] == "ERR"
    assert call(sandbox, "pv", to="628113", msg="").json()["error"] == "201"
    assert not Outgoing.objects.exists() and not Queue.objects.exists()
    assert len(sandbox.requests("pv")) == 4
