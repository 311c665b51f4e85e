"""The daemon's duties, one tick at a time (run by beat, by ``runsandbox`` and by tests).

1. Dispatch waiting queues whose time has come (after ``daemon_delay``, and not before their
   schedule in GMT+0): each row gets its `dt`, is charged against the ad-hoc balance (the
   parent's decides for a subaccount; both are deducted) — status 2, failed, when short — and
   becomes visible to `ds` with status 0.
2. Delivery reports, ``dlr_delay`` after dispatch: status 3 (delivered), 2 (failed, refunded) or
   1 (sent) — chosen by a hash of (seed, smslog_id), so the outcome is deterministic.
3. Route injected incoming SMS (``receive_delay``).
4. Recalculate cached credit every ``recalc_interval`` (all accounts, or the main admin only),
   and prune the request log to ``SANDBOX_REQUEST_LOG_KEEP`` entries.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .. import clock, profiles
from ..models import Outgoing, Queue, SandboxUser, TickState
from ..profiles import Switches
from . import requestlog
from .credit import recalculate, recalculate_all
from .receiving import process_received

BATCH = 5000


@dataclass
class TickResult:
    dispatched: int = 0
    reported: int = 0
    received: int = 0
    recalculated: int = 0


def tick(*, now: datetime | None = None, sw: Switches | None = None) -> TickResult:
    now = now or timezone.now()
    sw = sw or profiles.current()
    result = TickResult()
    result.dispatched = dispatch_due(now=now, sw=sw)
    result.reported = deliver_reports(now=now, sw=sw)
    result.received = process_received(now=now, sw=sw)
    result.recalculated = maybe_recalculate(now=now, sw=sw)
    return result


def dispatch_due(*, now: datetime, sw: Switches) -> int:
    ready = now - timedelta(seconds=sw.daemon_delay)
    gmt0_now = clock.fmt(clock.gmt0(now, sw))
    queues = Queue.objects.filter(
        state=Queue.State.WAITING, created__lte=ready, scheduled__lte=gmt0_now
    ).order_by("id")[:BATCH]
    count = 0
    for queue in queues:
        count += _dispatch_queue(queue, now=now, sw=sw)
    return count


@transaction.atomic
def _dispatch_queue(queue: Queue, *, now: datetime, sw: Switches) -> int:
    Queue.objects.filter(pk=queue.pk).update(state=Queue.State.PROCESSING)
    dt = clock.outgoing_dt(now, sw)
    rows = Outgoing.objects.filter(queue=queue, dt__isnull=True).select_related("user")
    count = 0
    for row in rows:
        payers = _payers(row.user)  # the sender, and the parent of a subaccount
        short = row.charge > 0 and payers[-1].adhoc_credit - row.charge < 0
        if short:
            row.status = 2
        else:
            for payer in payers:
                SandboxUser.objects.filter(pk=payer.pk).update(
                    adhoc_credit=F("adhoc_credit") - row.charge
                )
            row.billing = Outgoing.Billing.PENDING if row.charge else Outgoing.Billing.NONE
            row.status = 0
        row.dt, row.dispatched_at = dt, now
        row.save(update_fields=["status", "billing", "dt", "dispatched_at"])
        count += 1
    Queue.objects.filter(pk=queue.pk).update(state=Queue.State.FINISHED)
    return count


def _payers(account: SandboxUser) -> list[SandboxUser]:
    payers = [SandboxUser.objects.get(pk=account.pk)]
    if account.status == 4 and account.parent_id:
        payers.append(SandboxUser.objects.get(pk=account.parent_id))
    return payers


def outcome(smslog_id: int, sw: Switches) -> int:
    """The delivery status a row ends in: a pure function of (seed, smslog_id)."""
    digest = hashlib.sha256(f"{profiles.seed()}:{smslog_id}".encode()).digest()
    draw = int.from_bytes(digest[:8], "big") / 2**64
    if draw < sw.p_failed:
        return 2
    if draw < sw.p_failed + sw.p_delivered:
        return 3
    return 1


def deliver_reports(*, now: datetime, sw: Switches) -> int:
    """Apply due delivery reports; with ``two_step_dlr`` a row reports "sent" (1) first and its
    final status one ``dlr_delay`` later."""
    due = now - timedelta(seconds=sw.dlr_delay)
    final_due = due - timedelta(seconds=sw.dlr_delay)
    rows = list(
        Outgoing.objects.filter(dlr_final=False, dispatched_at__lte=due)
        .exclude(dt__isnull=True)
        .order_by("dispatched_at", "id")[:BATCH]
    )
    update = clock.outgoing_dt(now, sw)
    touched: set[int] = set()
    reported = 0
    with transaction.atomic():
        for row in rows:
            status, final = outcome(row.pk, sw), True
            if sw.two_step_dlr and row.status == 0 and status != 1:
                status, final = 1, False  # accepted by the gateway; the final report follows
            elif sw.two_step_dlr and row.status == 1 and row.dispatched_at > final_due:
                continue
            _bill(row, status)
            touched.add(row.user_id)
            row.status, row.update, row.dlr_final = status, update, final
            row.save(update_fields=["status", "update", "billing", "dlr_final"])
            reported += 1
    if not sw.stale_credit:
        for account in SandboxUser.objects.filter(pk__in=touched):
            recalculate(account)
    return reported


def _bill(row: Outgoing, status: int) -> None:
    """Sent or delivered finalises the billing entry; failed rolls it back (a refund)."""
    if row.billing not in (Outgoing.Billing.PENDING, Outgoing.Billing.FINAL):
        return
    if status == 2:
        row.billing = Outgoing.Billing.ROLLED_BACK
        _refund(row)
    else:
        row.billing = Outgoing.Billing.FINAL


def _refund(row: Outgoing) -> None:
    for payer in _payers(row.user):
        SandboxUser.objects.filter(pk=payer.pk).update(adhoc_credit=F("adhoc_credit") + row.charge)


def maybe_recalculate(*, now: datetime, sw: Switches) -> int:
    state = TickState.objects.first() or TickState.objects.create()
    if state.last_recalc and now - state.last_recalc < timedelta(seconds=sw.recalc_interval):
        return 0
    state.last_recalc = now
    state.save(update_fields=["last_recalc"])
    requestlog.prune()  # housekeeping at the same slow cadence
    return recalculate_all(sw)
