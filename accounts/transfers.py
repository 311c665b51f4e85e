"""Credit transfers between two accounts, run as a saga that never creates or loses credit.

A transfer is recorded (:class:`~accounts.models.CreditTransfer`) before the first API call and
moves through its states one step at a time::

    requested ──deduct──► debited ──add──► credited ──► done
        │                    │
        │ (nothing taken)    └─(add refused)─► compensating ──give back──► refunded
        └──────────────────────────────────────────────────────────────► refunded
    any step whose outcome cannot be settled ─────────────────────────► needs attention

Rules that keep the money right:

- **A step is marked "sent" (committed) before its request leaves.** A worker killed mid-step
  leaves "sent" behind; whoever runs the transfer next settles it by reading the server, never
  by sending again.
- **Unknown outcomes are settled by reading, never guessed.** Just before sending, the step reads
  the account's server figure (``creditview``). After a lost answer it reads again: the figure
  moved by exactly the amount (after the portal's own ledger moves since) → applied; it did not
  move → not applied; anything else, or a server whose cached figure does not follow changes at
  once (``BEARSMS_CREDIT_LIVE`` off: 1.4.8 refreshes only uid 1) → the transfer waits in
  **needs attention** with what is known.
- **No give-back while the add is unknown.** The give-back is sent only once the add is known
  not to have been applied (refused, or settled as not applied).
- **One step at a time per account.** Each step holds a lock on both accounts (the shared cache,
  taken over at once from a dead holder), so readings are not muddled by another portal move.
- **The same form posted twice is one transfer**: the row keeps the form's one-time key
  (``accounts.idempotency``), unique.

:func:`advance` is what the page runs inline and what the Celery task runs; it is safe to run
twice, concurrently or after a crash.
"""

from __future__ import annotations

import contextlib
import logging
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from bearsms_portal import bearsms as api

from .audit import CREDITTRANSFER, audited, audits_refusals, describe
from .clients import admin_client
from .errors import ServiceError
from .models import BearSMSAccount, CreditLedgerEntry, CreditTransfer
from .permissions import can, ensure_can
from .roles import Role, role_of

log = logging.getLogger("accounts.transfers")

State = CreditTransfer.State
Step = CreditTransfer.Step
Level = BearSMSAccount.Level

#: Sends of one step that came back "not applied" before the saga gives that step up.
MAX_SENDS = 3
#: Transfers left unfinished this long (worker died) are resumed by the beat task.
STALE_AFTER_SECONDS = 30

_STEPS = {
    # step: (op, which account, sign of the change on that account, ledger kind)
    "debit": ("creditdeduct", "source", -1, CreditLedgerEntry.Kind.DEDUCT),
    "credit": ("creditadd", "target", 1, CreditLedgerEntry.Kind.ADD),
    "refund": ("creditadd", "source", 1, CreditLedgerEntry.Kind.ADD),
}
_OPEN = (Step.SENT, Step.UNKNOWN)


class NeedsConfirmation(ServiceError):
    """An operator's move or deduction would take the account below its available balance;
    ``resulting`` is the balance it would leave. Post again with ``confirmed=True``."""

    def __init__(self, message: str, *, resulting: Decimal, available: Decimal):
        super().__init__(message, field="amount")
        self.resulting = resulting
        self.available = available


# --- balances --------------------------------------------------------------------------------


def server_figure_live() -> bool:
    """Whether ``creditview`` follows every credit change at once (so a reading can settle an
    unknown step). Off for a real playSMS 1.4.8, whose cached figure is refreshed only for
    uid 1 (``shared/bearsms-api.md`` §4.1.7)."""
    configured = getattr(settings, "BEARSMS_CREDIT_LIVE", None)
    if configured is not None:
        return bool(configured)
    # The built-in sandbox: its "documented" profile refreshes every figure at once.
    on_sandbox = settings.BEARSMS_URL.rstrip("/").endswith("/sandbox")
    return bool(
        settings.SANDBOX_ENABLED and on_sandbox and settings.SANDBOX_PROFILE == "documented"
    )


def _held(account: BearSMSAccount) -> Decimal:
    """Amounts promised to transfers out of ``account`` whose deduction is not in the ledger
    yet (requested, or deduction sent and not settled)."""
    held = CreditTransfer.objects.filter(source=account).filter(
        Q(state=State.REQUESTED) | Q(state=State.ATTENTION, debit__in=_OPEN)
    )
    return held.aggregate(total=Sum("amount"))["total"] or Decimal(0)


def available_balance(account: BearSMSAccount) -> Decimal:
    """What ``account`` may still move or spend: its balance (``accounts.balances``, the one
    rule; unknown counts as 0) minus what transfers in flight have promised away."""
    from .balances import balance_of

    return (balance_of(account).balance or Decimal(0)) - _held(account)


def check_overdraft(*, actor, account: BearSMSAccount, amount: Decimal, confirmed: bool) -> None:
    """The no-overdraft guard of every credit form. Resellers are refused with the figure;
    operators must confirm (``confirmed``) a move that leaves less than zero available."""
    available = available_balance(account)
    if amount <= available:
        return
    resulting = available - amount
    if role_of(actor) != Role.OPERATOR:
        raise ServiceError(
            f"{account.username} has {fmt(available)} available; {fmt(amount)} is more than that.",
            field="amount",
        )
    if not confirmed:
        raise NeedsConfirmation(
            f"{account.username} has {fmt(available)} available: this leaves it at "
            f"{fmt(resulting)}. Confirm to go ahead.",
            resulting=resulting,
            available=available,
        )


def fmt(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return f"{value.quantize(Decimal('0.0001')).normalize():f}"


# --- locks -------------------------------------------------------------------------------------


@contextlib.contextmanager
def account_locks(*accounts: BearSMSAccount):
    """Hold the credit lock of every account (in id order), or yield False if one is busy."""
    from messaging.locks import named_lock

    database = connection.settings_dict["NAME"]  # several test databases share one cache
    locks = [named_lock(f"credit:{database}:{pk}") for pk in sorted({a.pk for a in accounts})]
    taken = []
    try:
        for lock in locks:
            if not lock.acquire():
                yield False
                return
            taken.append(lock)
        yield True
    finally:
        for lock in reversed(taken):
            lock.release()


# --- requesting --------------------------------------------------------------------------------


def _check_pair(actor, source: BearSMSAccount, target: BearSMSAccount) -> None:
    _require(source.pk != target.pk, "Choose two different accounts.", "target")
    if role_of(actor) == Role.OPERATOR:
        return
    sub = target if target.level == Level.SUBACCOUNT else source
    ensure_can(actor, CREDITTRANSFER, sub)
    _require(
        sub.parent_id is not None and {source.pk, target.pk} == {sub.pk, sub.parent_id},
        "Credit moves only between a reseller and its own subaccount.",
    )


def _require(condition: bool, message: str, field: str | None = None) -> None:
    if not condition:
        raise ServiceError(message, field=field)


@audits_refusals(CREDITTRANSFER)
def request_transfer(
    *,
    actor,
    source: BearSMSAccount,
    target: BearSMSAccount,
    amount,
    reason: str,
    key: str,
    confirmed: bool = False,
) -> CreditTransfer:
    """Record a transfer (nothing sent yet) after the permission and overdraft checks.

    ``key`` identifies the form that asked: a second call with the same key returns the first
    transfer, whatever its state, and moves nothing.
    """
    from .services import _amount

    _check_pair(actor, source, target)
    _require(bool(key) and len(key) <= 64, "This form has expired: open it again.")

    def create() -> CreditTransfer:
        amount_ = _amount(amount)
        reason_ = (reason or "").strip()
        _require(bool(reason_), "Give a reason (it goes into the ledger).", "reason")
        check_overdraft(actor=actor, account=source, amount=amount_, confirmed=confirmed)
        params = {
            "from": source.username,
            "to": target.username,
            "amount": str(amount_),
            "reason": reason_,
        }
        with transaction.atomic():
            transfer = CreditTransfer.objects.create(
                form_key=key,
                source=source,
                target=target,
                source_username=source.username,
                target_username=target.username,
                amount=amount_,
                reason=reason_,
                actor=actor if getattr(actor, "pk", None) else None,
                actor_username=actor.get_username() if getattr(actor, "pk", None) else "",
            )
            with audited(actor=actor, action=CREDITTRANSFER, target=target, params=params) as audit:
                audit.note(f"transfer #{transfer.pk}")
                if confirmed:
                    audit.note("overdraft confirmed")
                audit.succeeded(
                    f"Transfer #{transfer.pk} requested: {fmt(amount_)} from {source.username} "
                    f"to {target.username}."
                )
        return transfer

    transfer, _ = CreditTransfer.create_once(key, actor=actor, create=create)
    return transfer


# --- running -------------------------------------------------------------------------------------


def _note(transfer: CreditTransfer, step: str, op: str, result: str, **extra) -> None:
    transfer.log = [
        *transfer.log,
        {"at": timezone.now().isoformat(), "step": step, "op": op, "result": result, **extra},
    ]


def _save(transfer: CreditTransfer, *fields: str) -> None:
    transfer.save(update_fields=[*fields, "log", "updated_at"])


def _read_figure(transfer: CreditTransfer, step: str, username: str) -> Decimal:
    """``creditview`` (620 = zero). Raises the client error when the server cannot be read."""
    try:
        figure = admin_client().credit_view(username)
    except api.ZeroCredit:
        figure = Decimal(0)
    except api.BearSMSError as exc:
        _note(transfer, step, "creditview", describe(exc), username=username)
        raise
    _note(transfer, step, "creditview", "OK", username=username, figure=str(figure))
    return figure


def _ledger_since(account: BearSMSAccount, since, transfer: CreditTransfer) -> Decimal:
    """The portal's own confirmed moves on ``account`` after ``since``, except this transfer's."""
    moves = CreditLedgerEntry.objects.filter(account=account, created_at__gt=since).exclude(
        reason__endswith=f"[transfer #{transfer.pk}]"
    )
    return moves.aggregate(total=Sum("amount"))["total"] or Decimal(0)


def _others_open(account: BearSMSAccount, since, transfer: CreditTransfer) -> bool:
    """Another transfer has a step on ``account`` sent after ``since`` and not settled."""
    others = CreditTransfer.objects.exclude(pk=transfer.pk)
    return (
        others.filter(source=account)
        .filter(
            Q(debit__in=_OPEN, debit_sent_at__gt=since)
            | Q(refund__in=_OPEN, refund_sent_at__gt=since)
        )
        .exists()
        or others.filter(target=account, credit__in=_OPEN, credit_sent_at__gt=since).exists()
    )


class _Wait(Exception):
    """The server could not be read now; try the transfer again later."""


def settle_grace() -> float:
    """Seconds after sending during which a request that got no answer may still be applied
    by the server (it is still working on it): "not applied" is not concluded before."""
    return max(2.0, 2 * float(settings.BEARSMS_TIMEOUT))


def _may_still_apply(transfer: CreditTransfer, step: str, sent_at) -> bool:
    """The step got no answer at all (time-out, or its worker died) and was sent so recently
    that the server may still be processing it."""
    answered = any(
        e.get("step") == step and e.get("op") in ("creditadd", "creditdeduct") and e.get("answered")
        for e in transfer.log[-3:]
    )
    recent = (timezone.now() - sent_at).total_seconds() < settle_grace()
    return recent and not answered


def _settle(transfer: CreditTransfer, step: str) -> str | None:
    """Decide from the server whether an unanswered step was applied: ``Step.APPLIED``,
    ``Step.NOT_APPLIED``, or None when the server cannot confirm either."""
    op, side, sign, _ = _STEPS[step]
    account = getattr(transfer, side)
    before = getattr(transfer, f"{step}_before")
    sent_at = getattr(transfer, f"{step}_sent_at")
    if not server_figure_live() or before is None:
        _note(transfer, step, "settle", "server figure cannot confirm")
        return None
    try:
        now = _read_figure(transfer, step, account.username)
    except api.BearSMSError:
        raise _Wait from None
    if _others_open(account, sent_at, transfer):
        _note(transfer, step, "settle", "another unsettled move on the account")
        return None
    unchanged = before + _ledger_since(account, sent_at, transfer)
    if now == unchanged + sign * transfer.amount:
        _note(transfer, step, "settle", "applied", figure=str(now))
        return Step.APPLIED
    if now == unchanged:
        if _may_still_apply(transfer, step, sent_at):
            _note(transfer, step, "settle", "not yet: the request may still be in progress")
            raise _Wait
        _note(transfer, step, "settle", "not applied", figure=str(now))
        return Step.NOT_APPLIED
    _note(transfer, step, "settle", "figure matches neither", figure=str(now), base=str(unchanged))
    return None


def _applied(transfer: CreditTransfer, step: str) -> None:
    """Mark the step applied and write its ledger entry, in one transaction."""
    from .services import _ledger

    op, side, _, kind = _STEPS[step]
    account = getattr(transfer, side)
    label = {"debit": "moved out", "credit": "moved in", "refund": "given back"}[step]
    reason = (
        f"{transfer.reason} ({label}: {transfer.source_username} → {transfer.target_username}) "
        f"[transfer #{transfer.pk}]"
    )
    with transaction.atomic():
        setattr(transfer, step, Step.APPLIED)
        _save(transfer, step)
        _ledger(account, kind, transfer.amount, reason[:250], transfer.actor, None)


def _send(transfer: CreditTransfer, step: str) -> str | None:
    """Run one step once: read, mark sent, send, record. Returns the step's outcome."""
    op, side, _, _ = _STEPS[step]
    account = getattr(transfer, side)
    before = None
    if server_figure_live():
        try:
            before = _read_figure(transfer, step, account.username)
        except api.BearSMSError:
            raise _Wait from None
    setattr(transfer, step, Step.SENT)
    setattr(transfer, f"{step}_before", before)
    setattr(transfer, f"{step}_sent_at", timezone.now())
    transfer.attempts += 1
    _save(transfer, step, f"{step}_before", f"{step}_sent_at", "attempts")
    client = admin_client()
    method = client.credit_deduct if op == "creditdeduct" else client.credit_add
    try:
        method(account.username, transfer.amount)
    except (api.ApiError, api.UnknownUserFatal, api.TransportError) as exc:
        # A refusal, or a request that never left: certainly not applied.
        _note(transfer, step, op, describe(exc), username=account.username, code=exc.code)
        setattr(transfer, step, Step.NOT_APPLIED)
        _save(transfer, step)
        return "refused" if isinstance(exc, api.ApiError | api.UnknownUserFatal) else None
    except api.BearSMSError as exc:
        # A reply came (HTTP 5xx, a garbled body): the server is done with the request.
        answered = getattr(exc, "http_status", None) is not None or isinstance(
            exc, api.ProtocolError
        )
        _note(transfer, step, op, describe(exc), username=account.username, answered=answered)
        setattr(transfer, step, Step.UNKNOWN)
        _save(transfer, step)
        return _resolve(transfer, step)
    _note(transfer, step, op, "OK", username=account.username)
    _applied(transfer, step)
    return Step.APPLIED


def _resolve(transfer: CreditTransfer, step: str) -> str | None:
    outcome = _settle(transfer, step)
    if outcome == Step.APPLIED:
        _applied(transfer, step)
    elif outcome == Step.NOT_APPLIED:
        setattr(transfer, step, Step.NOT_APPLIED)
        _save(transfer, step)
    else:
        setattr(transfer, step, Step.UNKNOWN)
        _save(transfer, step)
    return outcome


def _run_step(transfer: CreditTransfer, step: str) -> str | None:
    """The step's outcome: APPLIED, NOT_APPLIED (after MAX_SENDS, or "refused"), or None."""
    status = getattr(transfer, step)
    if status in _OPEN:
        outcome = _resolve(transfer, step)
        if outcome != Step.NOT_APPLIED:
            return outcome
        status = Step.NOT_APPLIED
    if status == Step.APPLIED:
        return Step.APPLIED
    while transfer.attempts < MAX_SENDS:
        outcome = _send(transfer, step)
        if outcome == "refused":
            return Step.NOT_APPLIED
        if outcome != Step.NOT_APPLIED and outcome is not None:
            return outcome
        if outcome is None and getattr(transfer, step) == Step.UNKNOWN:
            return None
    return Step.NOT_APPLIED


def _move(transfer: CreditTransfer, state: str, *, reason: str = "") -> None:
    transfer.state = state
    transfer.attempts = 0
    fields = ["state", "attempts"]
    if reason:
        transfer.attention_reason = reason
        fields.append("attention_reason")
    if state in CreditTransfer.FINAL_STATES:
        transfer.finished_at = timezone.now()
        fields.append("finished_at")
    _save(transfer, *fields)


def _finish(transfer: CreditTransfer, state: str, message: str) -> None:
    """Enter a final state (or needs attention) with its audit entry, in one transaction."""
    from .models import AuditEntry

    with transaction.atomic():
        if state == State.ATTENTION:
            _move(transfer, state, reason=message)
        else:
            _move(transfer, state)
        with audited(
            actor=transfer.actor,
            action=f"{CREDITTRANSFER}.{state}",
            target=transfer.target,
            params={"transfer": transfer.pk, "from": transfer.source_username},
        ) as audit:
            for entry in transfer.log:
                audit.step(entry["op"], f"{entry['step']}: {entry['result']}")
            text = f"Transfer #{transfer.pk}: {message}"
            if state == State.DONE:
                audit.succeeded(text)
            else:
                unknown = state == State.ATTENTION
                audit.failed(
                    text,
                    outcome=AuditEntry.Outcome.UNKNOWN if unknown else AuditEntry.Outcome.FAILURE,
                )


def _advance_locked(transfer: CreditTransfer) -> None:
    while True:
        amount = fmt(transfer.amount)
        if transfer.state == State.REQUESTED:
            outcome = _run_step(transfer, "debit")
            if outcome == Step.APPLIED:
                _move(transfer, State.DEBITED)
            elif outcome == Step.NOT_APPLIED:
                _finish(
                    transfer,
                    State.REFUNDED,
                    f"the deduction from {transfer.source_username} was not applied; "
                    "nothing was moved.",
                )
            else:
                _finish(
                    transfer,
                    State.ATTENTION,
                    f"the server cannot confirm whether {amount} was deducted from "
                    f"{transfer.source_username}.",
                )
        elif transfer.state == State.DEBITED:
            outcome = _run_step(transfer, "credit")
            if outcome == Step.APPLIED:
                _move(transfer, State.CREDITED)
            elif outcome == Step.NOT_APPLIED:
                _move(transfer, State.COMPENSATING)
            else:
                _finish(
                    transfer,
                    State.ATTENTION,
                    f"{amount} was deducted from {transfer.source_username}; the server cannot "
                    f"confirm whether it was added to {transfer.target_username} (nothing is "
                    "given back while that is unknown).",
                )
        elif transfer.state == State.CREDITED:
            _finish(
                transfer,
                State.DONE,
                f"moved {amount} from {transfer.source_username} to {transfer.target_username}.",
            )
        elif transfer.state == State.COMPENSATING:
            outcome = _run_step(transfer, "refund")
            if outcome == Step.APPLIED:
                _finish(
                    transfer,
                    State.REFUNDED,
                    f"the add to {transfer.target_username} was not applied; {amount} was "
                    f"given back to {transfer.source_username}.",
                )
            elif outcome == Step.NOT_APPLIED:
                _finish(
                    transfer,
                    State.ATTENTION,
                    f"{amount} was deducted from {transfer.source_username}, not added to "
                    f"{transfer.target_username}, and the give-back failed {MAX_SENDS} times.",
                )
            else:
                _finish(
                    transfer,
                    State.ATTENTION,
                    f"the server cannot confirm whether {amount} was given back to "
                    f"{transfer.source_username}.",
                )
        else:
            return


def advance(transfer_id: int) -> CreditTransfer:
    """Run the transfer's next steps until it is done, refunded or needs attention.

    Returns the transfer; if its accounts are busy or the server cannot be read just now it
    is returned unfinished (``is_final`` false, state not attention): run it again later.
    """
    transfer = CreditTransfer.objects.select_related("source", "target", "actor").get(
        pk=transfer_id
    )
    if transfer.is_final or transfer.state == State.ATTENTION:
        return transfer
    with account_locks(transfer.source, transfer.target) as locked:
        if not locked or _waits_for_another(transfer):
            return transfer
        transfer.refresh_from_db()
        try:
            _advance_locked(transfer)
        except _Wait:
            _save(transfer)
    return transfer


def _waits_for_another(transfer: CreditTransfer) -> bool:
    """Another unfinished transfer left a step unsettled on one of these accounts (its worker
    died): it is settled first, or the readings of this one could not be trusted."""
    if transfer.debit in _OPEN or transfer.credit in _OPEN or transfer.refund in _OPEN:
        return False  # this one holds the open step: it goes first
    pair = [transfer.source_id, transfer.target_id]
    others = CreditTransfer.objects.exclude(pk=transfer.pk).exclude(
        state__in=[*CreditTransfer.FINAL_STATES, State.ATTENTION]
    )
    return others.filter(
        Q(source_id__in=pair, debit__in=_OPEN)
        | Q(source_id__in=pair, refund__in=_OPEN)
        | Q(target_id__in=pair, credit__in=_OPEN)
    ).exists()


def unfinished(older_than_seconds: float = STALE_AFTER_SECONDS):
    """Transfers neither final nor waiting for a person, untouched for a while."""
    cutoff = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
    return CreditTransfer.objects.filter(
        state__in=[State.REQUESTED, State.DEBITED, State.CREDITED, State.COMPENSATING],
        updated_at__lt=cutoff,
    )


# --- settling by hand --------------------------------------------------------------------------


def _resume_state(transfer: CreditTransfer) -> str:
    """Where the saga stands once a person settled its open step."""
    if transfer.refund:
        return State.REFUNDED if transfer.refund == Step.APPLIED else State.COMPENSATING
    if transfer.credit == Step.APPLIED:
        return State.CREDITED
    if transfer.credit:
        return State.COMPENSATING if transfer.credit == Step.NOT_APPLIED else State.DEBITED
    if transfer.debit == Step.APPLIED:
        return State.DEBITED
    return State.REQUESTED if transfer.debit in _OPEN else State.REFUNDED


def open_step(transfer: CreditTransfer) -> str | None:
    """The step a person must settle (its outcome unknown), if any."""
    for step in ("refund", "credit", "debit"):
        if getattr(transfer, step) in _OPEN:
            return step
    return None


SETTLE_CHOICES = ("applied", "not_applied", "recheck")


@audits_refusals("creditsettle")
def settle_by_hand(*, actor, transfer: CreditTransfer, decision: str, note: str) -> CreditTransfer:
    """An operator settles a transfer that needs attention, after checking the server:

    - ``applied`` / ``not_applied``: the open step's outcome as the operator found it (written to
      the ledger when applied); the saga then goes on (a give-back is sent only once the add is
      known not applied);
    - ``recheck``: read the server again and go on (a new try for a refused give-back).
    """
    if not can(actor, "creditsettle"):
        raise PermissionDenied("Not allowed: creditsettle")
    _require(decision in SETTLE_CHOICES, "Choose what the server shows.", "decision")
    note = (note or "").strip()
    _require(bool(note), "Say what you checked (it goes into the audit log).", "note")
    transfer = CreditTransfer.objects.select_related("source", "target").get(pk=transfer.pk)
    _require(transfer.state == State.ATTENTION, "This transfer does not need attention any more.")
    step = open_step(transfer)
    _require(
        decision == "recheck" or step is not None,
        "No step is open: use “check again”.",
        "decision",
    )
    with (
        audited(
            actor=actor,
            action="creditsettle",
            target=transfer.target,
            params={
                "transfer": transfer.pk,
                "decision": decision,
                "step": step or "",
                "note": note,
            },
        ) as audit,
        transaction.atomic(),
    ):
        if decision == "applied":
            _note(transfer, step, "by hand", "applied", by=actor.get_username())
            _applied(transfer, step)
        elif decision == "not_applied":
            _note(transfer, step, "by hand", "not applied", by=actor.get_username())
            setattr(transfer, step, Step.NOT_APPLIED)
        else:
            _note(transfer, step or "-", "by hand", "check again", by=actor.get_username())
        transfer.state = _resume_state(transfer)
        if transfer.state == State.COMPENSATING and transfer.refund == Step.NOT_APPLIED:
            transfer.refund = Step.NONE
        transfer.attempts = 0
        transfer.settled_by = actor
        transfer.settled_note = note
        transfer.attention_reason = ""
        _save(
            transfer,
            "state",
            "attempts",
            "debit",
            "credit",
            "refund",
            "settled_by",
            "settled_note",
            "attention_reason",
        )
        if transfer.state == State.REFUNDED and not transfer.finished_at:
            transfer.finished_at = timezone.now()
            _save(transfer, "finished_at")
        audit.succeeded(f"Transfer #{transfer.pk}: {decision.replace('_', ' ')} ({note}).")
    return advance(transfer.pk)
