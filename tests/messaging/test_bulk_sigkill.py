"""Acceptance 2 (part one): a worker SIGKILLed in the middle of a 2,000-destination bulk send.

The submission runs in a real Celery worker process (8 requests in flight) against the live
sandbox. While destinations are being submitted the worker is killed with SIGKILL — claims in
flight, no cleanup — and a new one is started, three times. Then the watchdog does what beat
does after a crash: claims whose worker died become "outcome unknown" and are looked up in
``ds``. The sandbox's own request log shows no ``pv`` twice, and none for the unknowns ``ds``
did not find (killed after the claim, before the request left); those are resent by hand, as
a person would from the send page, and then the log holds every destination exactly once.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from bearsms_portal.celery import app
from messaging.models import Send, SendDestination
from messaging.selectors import send_summary
from messaging.services import bulk, sending

from .conftest import link_account, portal_user
from .workers import WorkerRelay, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True), pytest.mark.timeout(1500)]
State = SendDestination.State

ROWS = 2_000
KILLS = 3


def _submitted() -> int:
    return SendDestination.objects.filter(state=State.SUBMITTED).count()


def test_sigkill_mid_bulk_send_submits_every_destination_exactly_once(
    live_sandbox_documented, settings, tmp_path, monkeypatch
):
    sandbox = live_sandbox_documented
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(bulk, "start_send", lambda send: None)  # the test queues it itself
    monkeypatch.setattr(
        bulk, "enqueue", lambda _task, file_id: bulk.recipient_file_check(file_id=file_id)
    )
    account = link_account(sandbox, "kim", credit=1_000_000)
    kim = portal_user("kim-portal", role="reseller", account=account)
    numbers = [f"1415{2000000 + i:07d}" for i in range(ROWS)]
    body = "phone,name\n" + "".join(f"+{n},N{i}\n" for i, n in enumerate(numbers))
    recipient_file = bulk.recipient_file_upload(
        actor=kim, account=account, upload=SimpleUploadedFile("2000.csv", body.encode())
    )
    bulk.recipient_file_map(
        actor=kim, recipient_file=recipient_file, header=True, number_column=0, text="Hi {name}"
    )
    recipient_file.refresh_from_db()
    assert recipient_file.rows_good == ROWS
    send = bulk.bulk_send_start(actor=kim, recipient_file=recipient_file)
    assert send.concurrency == 8

    started = time.monotonic()
    rng = random.Random(9)
    relay = WorkerRelay("test-bulk-kill", sandbox.url)  # the next worker starts meanwhile
    try:
        for kill in range(KILLS):
            queue, worker = relay.take()
            try:
                before = _submitted()
                app.send_task("messaging.submit_send", args=[send.pk], queue=queue)
                target = before + rng.randint(50, 250)
                wait_for(lambda t=target: _submitted() >= t, 120, f"submissions before kill {kill}")
                os.kill(worker.pid, signal.SIGKILL)
            finally:
                worker.kill()
                worker.wait(timeout=30)
            assert _submitted() < ROWS, "the send ended before it could be killed"
        in_flight = SendDestination.objects.filter(send=send, state=State.SENDING).count()

        queue, worker = relay.take(last=True)
        try:
            app.send_task("messaging.submit_send", args=[send.pk], queue=queue)
            wait_for(
                lambda: not SendDestination.objects.filter(send=send, state=State.QUEUED).exists(),
                900,
                "the last worker to claim every destination",
            )
            wait_for(
                lambda: (
                    SendDestination.objects.filter(send=send, state=State.SENDING).count()
                    <= in_flight
                ),
                60,
                "the last requests to finish",
            )
        finally:
            worker.kill()
            worker.wait(timeout=30)
    finally:
        relay.close()

    # What beat's watchdog does after a crash: dead claims become unknown, then ds settles them.
    sending.watchdog(now=timezone.now() + timedelta(minutes=10))
    assert not SendDestination.objects.filter(send=send, state=State.SENDING).exists()
    unknown = list(SendDestination.objects.filter(send=send, state=State.UNKNOWN))
    sandbox.settle(seconds=1)  # a message shows in ds once the server has dispatched it
    for destination in unknown:
        sending.resolve_unknown(destination_id=destination.pk)

    log = Counter(r.params["to"] for r in sandbox.requests("pv"))
    assert max(log.values()) == 1, "a destination was submitted twice"
    rows = dict(SendDestination.objects.filter(send=send).values_list("address", "state"))
    # A claim killed before its request left is still unknown, and the log proves it never
    # went out: a person may resend it by hand (audited), once.
    never_left = [a for a, s in rows.items() if s == State.UNKNOWN]
    assert all(log[a] == 0 for a in never_left)
    for destination in SendDestination.objects.filter(send=send, state=State.UNKNOWN):
        sending.resend_by_hand(actor=kim, destination=destination)

    log = Counter(r.params["to"] for r in sandbox.requests("pv"))
    assert log == Counter(numbers), "every destination submitted exactly once"
    summary = send_summary(Send.objects.get(pk=send.pk))
    assert summary[State.SUBMITTED] == ROWS
    elapsed = time.monotonic() - started
    print(
        f"{elapsed:.0f} s; killed {KILLS}x; {len(unknown)} claim(s) orphaned by the kills became "
        f"unknown; {len(unknown) - len(never_left)} found in ds; {len(never_left)} never reached "
        "the sandbox (no pv in its log) and were resent by hand"
    )
