"""Bulk sends from a file against the sandbox: the good rows go out once each
(the sandbox's request log proves it), bad rows never do; pause, resume and cancel."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.errors import ServiceError
from accounts.models import AuditEntry
from bearsms_portal.celery import app
from messaging import tasks  # noqa: F401 (registers the tasks for eager runs)
from messaging.models import RecipientFile, Send, SendDestination
from messaging.selectors import send_summary
from messaging.services import bulk, sending

from .conftest import link_account, portal_user

pytestmark = pytest.mark.django_db(transaction=True)
State = SendDestination.State


@pytest.fixture(autouse=True)
def _media_and_inline_check(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    # the check runs at once (in the app, a worker does it)
    monkeypatch.setattr(
        bulk, "enqueue", lambda _task, file_id: bulk.recipient_file_check(file_id=file_id)
    )


@pytest.fixture
def account(sandbox_documented):
    return link_account(sandbox_documented, "rita", credit=100_000)


@pytest.fixture
def rita(account):
    return portal_user("rita-portal", role="reseller", account=account)


def numbers(count: int, start: int = 0) -> list[str]:
    return [f"1415234{start + i:04d}" for i in range(count)]


def checked_file(rita, account, rows: list[str], text="Hi {name}, code {code}"):
    body = "name,phone,code\n" + "".join(f"{row}\n" for row in rows)
    recipient_file = bulk.recipient_file_upload(
        actor=rita, account=account, upload=SimpleUploadedFile("people.csv", body.encode())
    )
    bulk.recipient_file_map(
        actor=rita, recipient_file=recipient_file, header=True, number_column=1, text=text
    )
    recipient_file.refresh_from_db()
    assert recipient_file.state == RecipientFile.State.CHECKED
    return recipient_file


def pv_to(sandbox) -> Counter:
    return Counter(r.params["to"] for r in sandbox.requests("pv"))


def test_good_rows_are_sent_once_and_bad_rows_never(sandbox_documented, account, rita, eager):
    good = numbers(25)
    rows = [f"P{i},+{n},{i}" for i, n in enumerate(good)]
    rows[3:3] = ["Bad,12ab,1", "Dup,+" + good[0] + ",2", "Nobody,,3"]
    recipient_file = checked_file(rita, account, rows)
    assert (recipient_file.rows_good, recipient_file.rows_bad) == (25, 3)

    send = bulk.bulk_send_start(actor=rita, recipient_file=recipient_file)
    send.refresh_from_db()
    assert send.state == Send.State.DONE and send.source == Send.Source.FILE
    assert send.destinations_total == 25 and send.duplicates_dropped == 1
    assert send_summary(send)[State.SUBMITTED] == 25
    sent = pv_to(sandbox_documented)
    assert sent == Counter(good), "each good row exactly once, no bad row"
    texts = {r.params["to"]: r.params["msg"] for r in sandbox_documented.requests("pv")}
    assert texts[good[5]] == "Hi P5, code 5"
    assert AuditEntry.objects.filter(action="pv", target=account).count() == 1

    with pytest.raises(ServiceError):
        bulk.bulk_send_start(actor=rita, recipient_file=recipient_file)
    assert Send.objects.count() == 1 and sum(pv_to(sandbox_documented).values()) == 25


def test_pause_resume_and_cancel_before_anything_left(
    sandbox_documented, account, rita, monkeypatch
):
    started = []
    monkeypatch.setattr(bulk, "start_send", started.append)
    recipient_file = checked_file(
        rita, account, [f"P{i},+{n},{i}" for i, n in enumerate(numbers(8))]
    )
    send = bulk.bulk_send_start(actor=rita, recipient_file=recipient_file)
    assert started == [send]
    bulk.send_pause(actor=rita, send=send)
    assert sending.submit_send(send_id=send.pk) == Send.State.PAUSED
    assert not sandbox_documented.requests("pv")
    bulk.send_resume(actor=rita, send=send)
    assert send.state == Send.State.SENDING and len(started) == 2
    with pytest.raises(ServiceError):
        bulk.send_resume(actor=rita, send=send)
    bulk.send_cancel(actor=rita, send=send)
    assert sending.submit_send(send_id=send.pk) == Send.State.CANCELLED
    assert not sandbox_documented.requests("pv")
    summary = send_summary(send)
    assert summary[State.CANCELLED] == 8
    progress = bulk.send_progress(send, summary)
    assert progress["cancelled"] == 8 and progress["pending"] == 0 and progress["percent"] == 100
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"pv", "send_pause", "send_resume", "send_cancel"} <= actions


def test_cancel_mid_send_stops_what_was_not_submitted(
    sandbox_documented, account, rita, monkeypatch, settings
):
    settings.SEND_CONCURRENCY = 2
    monkeypatch.setattr(bulk, "start_send", lambda send: None)
    sandbox_documented.set_fault("pv", "latency_ms", 40)
    good = numbers(60)
    recipient_file = checked_file(rita, account, [f"P{i},+{n},{i}" for i, n in enumerate(good)])
    send = bulk.bulk_send_start(actor=rita, recipient_file=recipient_file)
    worker = threading.Thread(target=sending.submit_send, kwargs={"send_id": send.pk})
    worker.start()
    deadline = time.monotonic() + 60
    while send_summary(send)[State.SUBMITTED] < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    bulk.send_cancel(actor=rita, send=send)
    worker.join(60)
    summary = send_summary(send)
    assert summary[State.QUEUED] == summary[State.SENDING] == 0
    assert 0 < summary[State.CANCELLED] < 60
    assert summary[State.SUBMITTED] + summary[State.CANCELLED] == 60
    submitted = set(
        send.destinations.filter(state=State.SUBMITTED).values_list("address", flat=True)
    )
    assert pv_to(sandbox_documented) == Counter(submitted), "only what was claimed went out"


def test_progress_page_and_json(client, sandbox_documented, account, rita, eager):
    recipient_file = checked_file(
        rita, account, [f"P{i},+{n},{i}" for i, n in enumerate(numbers(4))]
    )
    client.force_login(rita)
    page = client.get(reverse("messaging:bulk_file", args=[recipient_file.pk]))
    assert b"Send 4 messages" in page.content and b"Hi P0, code 0" in page.content
    start = reverse("messaging:bulk_start", args=[recipient_file.pk])
    client.post(start)  # a hand-made POST without the page's one-time key is refused
    assert not Send.objects.exists()
    key = str(uuid.uuid4())
    response = client.post(start, {"form_key": key})
    assert response.status_code == 302
    recipient_file.refresh_from_db()
    assert recipient_file.state == RecipientFile.State.SENDING
    data = client.get(reverse("messaging:bulk_status", args=[recipient_file.pk])).json()
    assert data["send"]["done"] == 4 and data["send"]["state"] == "done"
    assert data["send"]["percent"] == 100
    page = client.get(reverse("messaging:bulk_file", args=[recipient_file.pk]))
    assert b'id="send-done">4<' in page.content
    # the same form sent again (double click, back and resend) replays the first answer
    response = client.post(start, {"form_key": key}, follow=True)
    assert b"already" not in response.content
    # a fresh page's key is refused: the file is already being sent
    response = client.post(start, {"form_key": str(uuid.uuid4())}, follow=True)
    assert b"not ready to send" in response.content
    assert Send.objects.count() == 1 and sum(pv_to(sandbox_documented).values()) == 4


def test_a_bulk_send_scheduled_on_the_page_is_the_instant_picked(client, sandbox_documented):
    """The time is read in the user's zone and written for pv in the account's zone; past
    times and times more than a year ahead are refused next to the field."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from accounts.models import BearSMSAccount, PortalProfile
    from bearsms_portal.sandbox.models import Queue

    sandbox_documented.create_user("east", timezone_="+0900", credit=100)
    east = BearSMSAccount(username="east", timezone="+0900")
    east.store_token(sandbox_documented.user("east").token)
    east.save()
    user = portal_user("east-portal", role="reseller", account=east)
    PortalProfile.objects.filter(user=user).update(time_zone="America/New_York")
    recipient_file = checked_file(user, east, [f"P{i},+{n},{i}" for i, n in enumerate(numbers(3))])
    client.force_login(user)
    start = reverse("messaging:bulk_start", args=[recipient_file.pk])
    page = client.get(reverse("messaging:bulk_file", args=[recipient_file.pk])).content.decode()
    assert 'name="schedule"' in page and "America/New_York" in page

    zone = ZoneInfo("America/New_York")
    now = timezone.now().astimezone(zone)
    for when, error in (
        (now - timedelta(minutes=5), "That time is in the past: pick a time to come."),
        (now + timedelta(days=400), "Schedule at most one year ahead."),
    ):
        response = client.post(
            start, {"form_key": str(uuid.uuid4()), "schedule": when.strftime("%Y-%m-%dT%H:%M")}
        )
        assert response.status_code == 200
        assert response.context["start_form"].errors["schedule"] == [error]
    assert not Send.objects.exists() and not sandbox_documented.requests("pv")

    picked = (now + timedelta(days=2)).replace(hour=10, minute=30, second=0, microsecond=0)
    response = client.post(
        start, {"form_key": str(uuid.uuid4()), "schedule": picked.strftime("%Y-%m-%dT%H:%M")}
    )
    assert response.status_code == 302
    send = Send.objects.get()
    assert send.scheduled_for == picked and send.scheduled_zone == "America/New_York"
    app.conf.task_always_eager = True
    try:
        sending.submit_send(send_id=send.pk)
    finally:
        app.conf.task_always_eager = False
    expected = picked.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M:%S")
    assert {q.scheduled for q in Queue.objects.all()} == {expected}
    # written in the account's zone (+0900): 10:30 in New York is 00:30 or 23:30 there
    written = {r.params["schedule"] for r in sandbox_documented.requests("pv")}
    local = picked.astimezone(ZoneInfo("Etc/GMT-9")).strftime("%Y-%m-%d %H:%M:%S")
    assert written == {local}


def test_the_credit_check_counts_every_rows_segments(client, sandbox_documented, operator_user):
    """segments × recipients × SEND_CREDIT_PER_SEGMENT against the known balance: refused for
    a reseller, "send anyway" for an operator."""
    from decimal import Decimal

    from django.utils import timezone

    from accounts.models import BearSMSAccount

    account = link_account(sandbox_documented, "rita", credit=100_000)
    rita = portal_user("rita-portal", role="reseller", account=account)
    long_text = "x" * 200 + " {name}"  # 2 segments a row (153 a part)
    recipient_file = checked_file(
        rita, account, [f"P{i},+{n},{i}" for i, n in enumerate(numbers(3))], text=long_text
    )
    assert recipient_file.segments_total == 6
    BearSMSAccount.objects.filter(pk=account.pk).update(
        balance_base=Decimal(5), balance_base_at=timezone.now()
    )
    start = reverse("messaging:bulk_start", args=[recipient_file.pk])
    client.force_login(rita)
    response = client.post(start, {"form_key": str(uuid.uuid4())})
    assert response.status_code == 200
    error = response.context["start_form"].non_field_errors()[0]
    assert "below the 6 credit(s) this send needs (6 SMS segment(s) at 1 a segment)" in error
    assert "Ask for more credit first" in error and "send anyway" not in response.content.decode()
    client.force_login(operator_user)
    response = client.post(start, {"form_key": str(uuid.uuid4())})
    assert "Send anyway: I know the balance is enough" in response.content.decode()
    assert not Send.objects.exists()
    response = client.post(start, {"form_key": str(uuid.uuid4()), "confirmed": "on"})
    assert response.status_code == 302 and Send.objects.count() == 1


def test_the_credit_check_uses_the_configured_rate(sandbox_documented, settings):
    from decimal import Decimal

    from django.utils import timezone

    from accounts.models import BearSMSAccount

    account = link_account(sandbox_documented, "rita", credit=100_000)
    rita = portal_user("rita-portal", role="reseller", account=account)
    BearSMSAccount.objects.filter(pk=account.pk).update(
        balance_base=Decimal(5), balance_base_at=timezone.now()
    )
    account.refresh_from_db()
    assert sending.credit_shortfall(rita, account, segments=4) == ""
    settings.SEND_CREDIT_PER_SEGMENT = Decimal("1.5")
    assert sending.credit_needed(4) == Decimal(6)
    with pytest.raises(ServiceError, match=r"below the 6 credit\(s\).*at 1\.5 a segment"):
        sending.credit_shortfall(rita, account, segments=4)
