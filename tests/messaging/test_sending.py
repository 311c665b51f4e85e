"""Sending through the portal against the sandbox: one row per destination
written before any API call, each submitted once, errors in plain words."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from accounts.errors import ServiceError
from accounts.models import AuditEntry
from messaging import tasks  # noqa: F401 (registers the tasks for eager runs)
from messaging.models import Send, SendDestination
from messaging.selectors import send_summary
from messaging.services import bulk, sending

from .conftest import link_account, portal_user

pytestmark = pytest.mark.django_db(transaction=True)
State = SendDestination.State


@pytest.fixture
def reseller(sandbox_documented):
    account = link_account(sandbox_documented, "rita", credit=1000)
    return account


@pytest.fixture
def rita(reseller):
    return portal_user("rita-portal", role="reseller", account=reseller)


def pv_requests(sandbox):
    return list(sandbox.requests("pv"))


def wait_for_logged(sandbox, count: int, op: str = "pv"):
    """A hung request is logged when the sandbox finally closes it: wait for ``count`` of
    them, so none lands in the next test's request log."""
    deadline = time.monotonic() + 10
    while len(sandbox.requests(op)) < count and time.monotonic() < deadline:
        time.sleep(0.2)
    return sandbox.requests(op)


def test_single_number(sandbox_documented, reseller, rita, eager):
    send = sending.send_message(
        actor=rita, account=reseller, recipients="+14152345678", text="Hello there"
    )
    send.refresh_from_db()
    assert send.state == Send.State.DONE
    [dest] = send.destinations.all()
    assert dest.state == State.SUBMITTED and dest.smslog_id and len(dest.queue) == 64
    assert dest.address == "14152345678"
    [request] = pv_requests(sandbox_documented)
    assert request.params["to"] == "14152345678" and request.params["msg"] == "Hello there"


def test_many_with_duplicates_counted(sandbox_documented, reseller, rita, eager):
    send = sending.send_message(
        actor=rita,
        account=reseller,
        recipients="+14152345678, +14152345679\n(415)234-5680 +14152345678;4152345679",
        text="Hi all",
    )
    send.refresh_from_db()
    assert send.destinations_total == 3 and send.duplicates_dropped == 2
    assert send_summary(send)["submitted"] == 3
    assert len(pv_requests(sandbox_documented)) == 3


def test_lost_replies_are_resolved_through_ds_without_a_second_pv(
    sandbox_documented, reseller, rita, eager, settings
):
    """The request reaches the server, its answer is lost (sandbox fault ``lost_reply``): the
    destinations become unknown, and ds — not a second pv — settles them."""
    settings.BEARSMS_TIMEOUT = 1
    settings.SANDBOX_HANG_SECONDS = 2
    sandbox = sandbox_documented
    sandbox.set_fault("pv", "lost_reply", 1.0)
    send = sending.send_message(
        actor=rita, account=reseller, recipients="+14152345678 +14152345679", text="Lost?"
    )
    assert send_summary(send)["unknown"] == 2
    dest = send.destinations.first()
    assert "may or may not have queued it" in dest.reason

    sandbox.clear_faults()
    sandbox.settle()  # the daemon dispatches: the rows appear in ds
    for destination in send.destinations.all():
        assert sending.resolve_unknown(destination_id=destination.pk) == "submitted"
    send.refresh_from_db()
    assert send.state == Send.State.DONE
    dispatched = {o.pk: o.dst for o in sandbox.user("rita").outgoing.all()}
    for destination in send.destinations.all():
        assert destination.state == State.SUBMITTED
        assert dispatched[destination.smslog_id] == destination.address
        assert destination.resolution.startswith("Found in ds")
    # The sandbox logs a request when its (lost) answer is finally closed: wait for both.
    logged = wait_for_logged(sandbox, 2)
    assert len(logged) == 2  # one per destination, never a second one
    assert {r.fault for r in logged} == {"lost_reply"}


def test_two_submitters_at_once_submit_each_destination_once(
    sandbox_documented, reseller, rita, settings
):
    """Two workers (or a retry racing the first run) on the same send: claims decide."""
    settings.SEND_CONCURRENCY = 4
    numbers = " ".join(f"+1415234{5600 + i}" for i in range(30))
    send = sending.send_message(actor=rita, account=reseller, recipients=numbers, text="Once")
    with ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(_submit_in_thread, send.pk) for _ in range(2)]:
            future.result()
    assert send_summary(send)["submitted"] == 30
    asked = [r.params["to"] for r in pv_requests(sandbox_documented)]
    assert len(asked) == 30 and len(set(asked)) == 30


def _submit_in_thread(send_id):
    from django.db import connection

    try:
        return sending.submit_send(send_id=send_id)
    finally:
        connection.close()


def test_a_claimed_destination_is_never_claimed_again(sandbox_documented, reseller, rita):
    send = sending.send_message(
        actor=rita, account=reseller, recipients="+14152345678", text="Claimed"
    )
    first = sending.claim_next(send.pk)
    assert first is not None and first.state == State.SENDING
    assert sending.claim_next(send.pk) is None
    # A worker that dies holding the claim: the watchdog makes it unknown, never queued again.
    SendDestination.objects.filter(pk=first.pk).update(
        claimed_at=timezone.now() - timedelta(minutes=10)
    )
    report = sending.watchdog()
    assert report["orphaned"] == 1
    first.refresh_from_db()
    assert first.state == State.UNKNOWN and "worker stopped" in first.reason
    assert sending.claim_next(send.pk) is None
    assert not pv_requests(sandbox_documented)


def test_claims_in_order_and_only_while_the_send_runs(sandbox_documented, reseller, rita):
    """One UPDATE claims a block in order; two claimers never share a row; a paused or
    cancelled send gives no claim at all."""
    numbers = " ".join(f"+1415234{5700 + i}" for i in range(10))
    send = sending.send_message(actor=rita, account=reseller, recipients=numbers, text="Blocks")
    first = sending.claim_block(send.pk, 4)
    second = sending.claim_block(send.pk, 4)
    assert [d.position for d in first] == [1, 2, 3, 4]
    assert [d.position for d in second] == [5, 6, 7, 8]
    assert all(d.state == State.SENDING and d.claimed_at for d in first + second)
    for state in (Send.State.PAUSED, Send.State.CANCELLED, Send.State.FAILED):
        Send.objects.filter(pk=send.pk).update(state=state)
        assert sending.claim_block(send.pk, 4) == []
        assert sending.claim_next(send.pk) is None
        assert sending.claim_batch(send.pk, 3) == []
    Send.objects.filter(pk=send.pk).update(state=Send.State.SENDING)
    assert [d.position for d in sending.claim_block(send.pk, 4)] == [9, 10]
    assert not pv_requests(sandbox_documented)


def test_a_claim_writes_the_previous_answer_even_when_it_claims_nothing(
    sandbox_documented, reseller, rita
):
    """A submitter's answer rides on its next claim: written with it, in full, whether the
    claim finds a destination, finds the send paused, or finds nothing left."""
    numbers = " ".join(f"+1415234{5750 + i}" for i in range(3))
    send = sending.send_message(actor=rita, account=reseller, recipients=numbers, text="Ride")
    first, second, third = (sending.claim_block(send.pk, 1)[0] for _ in range(3))

    def answer(destination, smslog_id):
        when = timezone.now()
        values = {"state": State.SUBMITTED, "smslog_id": smslog_id, "queue": f"q{smslog_id}"}
        return sending.Answer(destination.pk, {**values, "finished_at": when, "server_to": "x"})

    SendDestination.objects.filter(pk__in=[second.pk, third.pk]).update(state=State.QUEUED)
    claimed = sending.claim_block(send.pk, 1, answer=answer(first, 901))
    assert [d.pk for d in claimed] == [second.pk]
    first.refresh_from_db()
    assert (first.state, first.smslog_id, first.queue, first.server_to) == (
        State.SUBMITTED,
        901,
        "q901",
        "x",
    )
    assert first.finished_at is not None
    Send.objects.filter(pk=send.pk).update(state=Send.State.PAUSED)
    assert sending.claim_block(send.pk, 1, answer=answer(second, 902)) == []
    second.refresh_from_db()
    assert (second.state, second.smslog_id) == (State.SUBMITTED, 902)
    third.refresh_from_db()
    assert third.state == State.QUEUED  # the pause held: nothing claimed
    Send.objects.filter(pk=send.pk).update(state=Send.State.SENDING)
    (third,) = sending.claim_block(send.pk, 1)
    assert sending.claim_block(send.pk, 1, answer=answer(third, 903)) == []
    assert send_summary(send)[State.SUBMITTED] == 3
    assert not pv_requests(sandbox_documented)


def test_a_pause_stops_the_submitters_before_their_next_request(
    sandbox_documented, reseller, rita, monkeypatch
):
    """Each destination is claimed right before its request: a pause between two requests
    leaves the rest queued (nothing held unsent), and resuming sends each destination once."""
    numbers = " ".join(f"+1415234{5800 + i}" for i in range(6))
    send = sending.send_message(actor=rita, account=reseller, recipients=numbers, text="Pause")
    real = sending._submit_batch
    calls = []

    def pause_after_two(client, send, batch, steering=None, **kwargs):
        calls.append(batch)
        if len(calls) == 2:
            bulk.send_pause(actor=rita, send=send)
        return real(client, send, batch, steering, **kwargs)

    monkeypatch.setattr(sending, "_submit_batch", pause_after_two)
    Send.objects.filter(pk=send.pk).update(concurrency=1)
    sending.submit_send(send_id=send.pk)
    summary = send_summary(send)
    assert summary[State.SUBMITTED] == 2 and summary[State.QUEUED] == 4
    assert summary[State.SENDING] == 0
    Send.objects.filter(pk=send.pk).update(state=Send.State.SENDING)
    sending.submit_send(send_id=send.pk)
    assert send_summary(send)[State.SUBMITTED] == 6
    asked = [r.params["to"] for r in pv_requests(sandbox_documented)]
    assert len(asked) == 6 and len(set(asked)) == 6


def test_after_a_pause_only_the_requests_in_flight_finish(live_sandbox_documented, settings):
    """Over real HTTP, 4 submitters in threads, 150 ms per pv: from the moment the pause
    commits nothing is claimed; what was in flight then is all that is recorded after it."""
    sandbox = live_sandbox_documented
    settings.SEND_CONCURRENCY = 4
    account = link_account(sandbox, "paula", credit=1000)
    paula = portal_user("paula-portal", role="reseller", account=account)
    sandbox.set_fault("pv", "latency_ms", 150)
    numbers = [f"1415234{6000 + i}" for i in range(80)]
    send = sending.send_message(
        actor=paula, account=account, recipients=" ".join(f"+{n}" for n in numbers), text="Hold"
    )
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(_submit_in_thread, send.pk)
        wait_for_state(send, State.SUBMITTED, 12)
        bulk.send_pause(actor=paula, send=send)
        paused_at = timezone.now()
        at_pause = send_summary(send)
        running.result(timeout=30)
    after = send_summary(send)
    assert not SendDestination.objects.filter(send=send, claimed_at__gt=paused_at).exists()
    assert after[State.SENDING] == 0
    assert after[State.SUBMITTED] == at_pause[State.SUBMITTED] + at_pause[State.SENDING]
    assert at_pause[State.SENDING] <= 4
    assert after[State.QUEUED] == 80 - after[State.SUBMITTED]
    assert len(pv_requests(sandbox)) == after[State.SUBMITTED]

    bulk.send_resume(actor=paula, send=send)  # queues the task; this test runs it itself
    sending.submit_send(send_id=send.pk)
    assert send_summary(send)[State.SUBMITTED] == 80
    asked = [r.params["to"] for r in pv_requests(sandbox)]
    assert sorted(asked) == numbers


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks: PostgreSQL; SQLite has one writer"
)
def test_a_claim_meeting_an_uncommitted_pause_waits_for_it_and_claims_nothing(
    sandbox_documented, reseller, rita
):
    send = sending.send_message(
        actor=rita, account=reseller, recipients="+14152346100 +14152346101", text="Turns"
    )
    pausing = connections.create_connection("default")
    try:
        with pausing.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(
                f"UPDATE {Send._meta.db_table} SET state = %s WHERE id = %s",  # noqa: S608
                [Send.State.PAUSED, send.pk],
            )
            with ThreadPoolExecutor(1) as pool:
                claim = pool.submit(_claim_in_thread, send.pk)
                time.sleep(0.5)
                assert not claim.done(), "the claim did not wait for the pause"
                cursor.execute("COMMIT")
                assert claim.result(timeout=10) == []
    finally:
        pausing.close()
    assert send_summary(send)[State.QUEUED] == 2


def _claim_in_thread(send_id):
    from django.db import connection

    try:
        return sending.claim_block(send_id, 1)
    finally:
        connection.close()


def wait_for_state(send, state: str, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while send_summary(send)[state] < count:
        assert time.monotonic() < deadline, f"fewer than {count} destinations {state}"
        time.sleep(0.02)


def test_watchdog_resubmits_a_stalled_send(sandbox_documented, reseller, rita, eager, monkeypatch):
    with monkeypatch.context() as patch:  # the queued task is lost (a broker restart, say)
        patch.setattr(sending, "enqueue", lambda *args: None)
        send = sending.send_message(
            actor=rita, account=reseller, recipients="+14152345678", text="S"
        )
    assert send_summary(send)["queued"] == 1
    Send.objects.filter(pk=send.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert sending.watchdog()["stalled"] == 1
    assert send_summary(send)["submitted"] == 1
    send.refresh_from_db()
    assert send.state == Send.State.DONE


def test_unknown_settled_by_hand_is_audited(sandbox_documented, reseller, rita, eager, settings):
    settings.BEARSMS_TIMEOUT = 1
    settings.SANDBOX_HANG_SECONDS = 2
    sandbox_documented.set_fault("pv", "hang", 1.0)  # never reaches the op: nothing queued
    send = sending.send_message(
        actor=rita, account=reseller, recipients="+14152345678 +14152345679", text="Hand"
    )
    wait_for_logged(sandbox_documented, 2)
    sandbox_documented.clear_faults()
    first, second = send.destinations.order_by("id")
    assert first.state == second.state == State.UNKNOWN
    resolved = sending.resolve_by_hand(actor=rita, destination=first, submitted=False)
    assert resolved.state == State.REFUSED and "Marked not sent by hand by rita-portal" in (
        resolved.resolution
    )
    fresh = sending.resend_by_hand(actor=rita, destination=second)
    assert fresh.state == State.SUBMITTED and fresh.smslog_id
    second.refresh_from_db()
    assert second.state == State.REFUSED and second.resolution.startswith("Resent by hand")
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"pv", "resolve", "resend"} <= actions
    with pytest.raises(ServiceError):
        sending.resend_by_hand(actor=rita, destination=fresh)


def test_a_server_that_takes_lists_gets_several_numbers_per_request(
    sandbox_documented, reseller, rita, eager, settings
):
    """The documented server splits a comma list; playSMS 1.4.8 would not (default: 1)."""
    settings.BEARSMS_DESTINATIONS_PER_REQUEST = 3
    settings.SEND_CONCURRENCY = 1
    numbers = " ".join(f"+1415234{5600 + i}" for i in range(7)) + " @nobody-here"
    send = sending.send_message(actor=rita, account=reseller, recipients=numbers, text="Lists")
    requests = [r.params["to"] for r in pv_requests(sandbox_documented)]
    assert [len(to.split(",")) for to in requests if not to.startswith("@")] == [3, 3, 1]
    summary = send_summary(send)
    assert summary["submitted"] == 7 and summary["refused"] == 1
    ids = set(send.destinations.exclude(smslog_id=None).values_list("smslog_id", flat=True))
    assert len(ids) == 7


def test_a_schedule_that_came_while_queued_goes_now(
    sandbox_documented, reseller, rita, eager, monkeypatch
):
    with monkeypatch.context() as patch:
        patch.setattr(sending, "enqueue", lambda *args: None)
        send = sending.send_message(
            actor=rita,
            account=reseller,
            recipients="+14152345678",
            text="Due",
            scheduled_for=timezone.now() + timedelta(minutes=5),
        )
    Send.objects.filter(pk=send.pk).update(scheduled_for=timezone.now() - timedelta(minutes=1))
    sending.submit_send(send_id=send.pk)
    [request] = pv_requests(sandbox_documented)
    assert "schedule" not in request.params
    assert send.destinations.get().state == State.SUBMITTED


def test_a_warning_to_confirm_is_not_a_refusal(sandbox_documented, reseller, rita):
    with pytest.raises(sending.NeedsConfirmation):
        sending.send_message(
            actor=rita, account=reseller, recipients="+14152345678", text="x", sender="Other"
        )
    assert not AuditEntry.objects.filter(action="pv").exists()
