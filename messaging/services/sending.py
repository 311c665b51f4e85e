"""Sending as an account: one :class:`~messaging.models.Send` per message, one
:class:`~messaging.models.SendDestination` per destination, written before any API call.

The life of a send:

1. :func:`send_message` (compose page, ``manage.py send``) checks permission and input, writes
   the send and all its destinations in one transaction with its audit entry, and queues the
   submission. Bulk file sends (``messaging.services.bulk``) write their rows, then call
   :func:`start_send`.
2. :func:`submit_send` (the Celery task's body) runs ``concurrency`` submitters at once. Each
   **claims** one queued destination in the database (``queued`` → ``sending``, a conditional
   UPDATE only one caller can win) before its ``pv`` request, then records the answer:
   ``submitted`` (``smslog_id``, ``queue``) or ``refused`` (the server's reason). A destination
   that left ``queued`` is never submitted again, whoever retries — a task retry, a second
   worker, a crash and restart.
3. A read time-out or dropped connection after the request left makes it ``unknown``; so does a
   claim whose worker died (:func:`watchdog`). :func:`resolve_unknown` settles it by looking
   for the message in ``ds`` (destination, text and the send's time window) — never by sending
   again. What cannot be settled stays visible as unknown, with :func:`resolve_by_hand` and
   :func:`resend_by_hand` (both audited) on the send page.

BearSMS has no op to cancel a scheduled message: a scheduled send is submitted at once with
``schedule`` (the server holds it even when the portal is down) and can only be deleted by a
BearSMS administrator in its web UI.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.audit import audited, audits_refusals
from accounts.balances import balance_of
from accounts.clients import AccountNotLinked, client_for
from accounts.errors import ServiceError
from accounts.models import BearSMSAccount
from accounts.permissions import can, ensure_can
from accounts.roles import is_operator
from accounts.selectors import accounts_visible_to, stoplisted_numbers
from accounts.services import banned_by
from bearsms_portal import bearsms as api
from bearsms_portal.transactions import unflushed, update_statement, update_unflushed

from .. import recipients as rcpt
from ..models import Send, SendDestination
from ..segments import UCS2, count_segments, with_footer
from . import enqueue

log = logging.getLogger(__name__)

State = SendDestination.State
Kind = SendDestination.Kind

#: What the server's empty HTTP 500 on pv means, honestly (BearSMS §4.1.8).
REFUSED_500 = (
    "The server refused to queue this message: invalid number, stoplisted number or not "
    "enough credit (it does not say which)."
)
REFUSED_500_BY_KIND = {
    Kind.USER: "The server refused it: no such account, a banned one, or one whose inbox "
    "forwarding is off (it does not say which).",
    Kind.GROUP: "The server refused it: no phonebook group matches this code, or the group "
    "is empty (it does not say which).",
}
REFUSED_201 = "The server found the destination or the message empty (ERR 201)."
UNKNOWN_REASON = (
    "No answer came back after the request left (time-out or dropped connection): the server "
    "may or may not have queued it. The portal looks for it in the outgoing messages (ds)."
)
MAX_SCHEDULE_AHEAD = timedelta(days=365)


class NeedsConfirmation(Exception):  # noqa: N818 (a question, not an error)
    """The send can go, but the user must confirm the warnings first (``warnings``).

    Not a ServiceError: nothing was refused, so no "refused" audit entry is written."""

    def __init__(self, warnings: list[str]):
        self.warnings = warnings
        super().__init__(" ".join(warnings))


class BadRecipients(ServiceError):
    """Some entries are not recipients: one ``(entry, reason)`` per bad entry."""

    def __init__(self, entries: list[rcpt.BadEntry]):
        self.entries = entries
        super().__init__(
            "; ".join(f"“{e.entered}”: {e.reason}" for e in entries), field="recipients"
        )


# --- checks --------------------------------------------------------------------------------------


def account_unavailable_reason(account: BearSMSAccount) -> str:
    """Why the portal cannot send as ``account`` now ("" when it can)."""
    banned = banned_by(account)
    if banned is account:
        return "The account is banned on BearSMS: unban it to send as it."
    if banned is not None:
        return f"Its reseller {banned.username} is banned on BearSMS: unban the reseller to send."
    if not account.is_linked:
        return "The account is not linked: the portal holds no webservices token for it yet."
    return ""


@dataclass(frozen=True)
class Unavailable:
    """An account the user could send as, but not now: why, and whether they can fix it."""

    account: BearSMSAccount
    reason: str
    can_fix: bool  # the user may link (or unban) it themselves
    banned: BearSMSAccount | None = None  # the account to unban (itself or its reseller)


def accounts_for_compose(user) -> tuple[list[BearSMSAccount], list[Unavailable]]:
    """The accounts ``user`` may send as now, and the others they could send as, each with
    the reason it is unavailable."""
    available, unavailable = [], []
    for account in accounts_visible_to(user).exclude(level=BearSMSAccount.Level.ADMIN):
        if not can(user, "pv", account):
            continue
        reason = account_unavailable_reason(account)
        if reason:
            banned = banned_by(account)
            if banned is not None:
                fixable = can(user, "accountunban", banned)
            else:
                fixable = can(user, "get_token", account)
            unavailable.append(Unavailable(account, reason, fixable, banned))
        else:
            available.append(account)
    return available, unavailable


def can_settle(user, send: Send) -> bool:
    """May ``user`` settle this send's unknown outcomes by hand (resolve, resend)?"""
    return can(user, "pv", send.account)


def ensure_can_send(actor, account: BearSMSAccount) -> None:
    ensure_can(actor, "pv", account)
    reason = account_unavailable_reason(account)
    if reason:
        raise ServiceError(reason, field="account")


def check_schedule(scheduled_for: datetime | None, *, now: datetime | None = None) -> None:
    if scheduled_for is None:
        return
    now = now or timezone.now()
    if scheduled_for <= now:
        raise ServiceError("That time is in the past: pick a time to come.", field="schedule")
    if scheduled_for > now + MAX_SCHEDULE_AHEAD:
        raise ServiceError("Schedule at most one year ahead.", field="schedule")


def footer_of(account: BearSMSAccount, footer: bool) -> str:
    """The footer the server appends (``@username`` for an account with no footer set)."""
    if not footer:
        return ""
    return account.footer or f"@{account.username}"


def balance_to_check(account: BearSMSAccount) -> tuple[BearSMSAccount, Decimal] | None:
    """(account whose credit the server checks, its known balance) — None when never read.
    For a subaccount the server checks the parent's credit (BearSMS §4.1.7)."""
    payer = account.parent if account.is_subaccount and account.parent_id else account
    balance = balance_of(payer).balance
    if balance is None:
        return None
    return payer, balance


@dataclass
class Prepared:
    """What a send will be, before anything is written (also what the compose page shows)."""

    account: BearSMSAccount
    parsed: rcpt.ParsedRecipients
    text: str
    segments: int
    encoding: str
    warnings: list[str]

    @property
    def messages(self) -> int:
        return self.segments * self.parsed.count


def prepare(
    *,
    actor,
    account: BearSMSAccount,
    recipients: str,
    text: str,
    sender: str = "",
    footer: bool = True,
    scheduled_for: datetime | None = None,
) -> Prepared:
    """Check everything that can be checked before sending; raise :class:`ServiceError`
    (next to its field) for what refuses the send, list what needs a confirmation."""
    ensure_can_send(actor, account)
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise ServiceError("Enter the message.", field="text")
    check_schedule(scheduled_for)
    parsed = rcpt.parse_recipients(
        recipients, region=rcpt.region_for(account), own_username=account.username
    )
    if parsed.errors:
        raise BadRecipients(parsed.errors)
    if not parsed.recipients:
        raise ServiceError("Enter at least one recipient.", field="recipients")
    stopped = stoplisted_numbers(r.address for r in parsed.recipients if r.kind == rcpt.NUMBER)
    if stopped:
        raise ServiceError(
            "On the stoplist (BearSMS would refuse them): "
            + ", ".join(sorted(stopped))
            + ". Remove them from the recipients.",
            field="recipients",
        )
    count = count_segments(with_footer(text, footer_of(account, footer)))
    warnings = []
    sender = (sender or "").strip()
    if sender and sender != account.sender:
        configured = f"“{account.sender}”" if account.sender else "none recorded in the portal"
        warnings.append(
            f"Sender ID “{sender}” is not the account's configured sender ({configured}). "
            "BearSMS silently replaces a sender ID it has not approved for the account."
        )
    prepared = Prepared(account, parsed, text, count.segments, count.encoding, warnings)
    _check_balance(actor, prepared)
    return prepared


def _check_balance(actor, prepared: Prepared) -> None:
    # An @user message is free (an inbox copy); a #group's size is unknown before sending, so
    # it counts as one recipient here.
    charged = sum(1 for r in prepared.parsed.recipients if r.kind != rcpt.USER)
    warning = credit_shortfall(actor, prepared.account, segments=prepared.segments * charged)
    if warning:
        prepared.warnings.append(warning + " Send anyway if you know the balance is enough.")


def credit_needed(segments: int) -> Decimal:
    """What BearSMS charges for ``segments`` SMS segments: segments × rate (BearSMS §4.1.7).
    The rate is the server's rate table, which no API op reads: ``SEND_CREDIT_PER_SEGMENT``."""
    return Decimal(segments) * settings.SEND_CREDIT_PER_SEGMENT


def credit_shortfall(actor, account: BearSMSAccount, *, segments: int) -> str:
    """The one credit pre-check of a send of ``segments`` SMS segments in all (each
    recipient's segments, footer included): "" when the known balance covers it or is not
    known; raises :class:`ServiceError` for a user who is not an operator; otherwise the
    warning an operator must confirm ("send anyway")."""
    known = balance_to_check(account)
    if known is None:
        return ""
    payer, balance = known
    needed = credit_needed(segments)
    if balance >= needed:
        return ""
    rate = settings.SEND_CREDIT_PER_SEGMENT.normalize()
    text = (
        f"The known balance of {payer.username} ({balance.normalize():f}) is below the "
        f"{needed.normalize():f} credit(s) this send needs ({segments} SMS segment(s) at "
        f"{rate:f} a segment); BearSMS refuses the messages the credit does not cover, or "
        "fails them when it dispatches them."
    )
    if not is_operator(actor):
        raise ServiceError(text + " Ask for more credit first.", field="recipients")
    return text


# --- the contact/group picker -------------------------------------------------------------------

CONTACTS_CACHE_SECONDS = 60


def lookup_contacts(*, actor, account: BearSMSAccount, query: str) -> list[dict]:
    """Phonebook contacts and groups of ``account`` matching ``query`` (get_contact,
    get_contact_group), cached per account and query for a minute."""
    ensure_can_send(actor, account)
    query = (query or "").strip()
    if len(query) < 2:
        return []
    key = "send:contacts:" + hashlib.sha256(f"{account.pk}|{query.lower()}".encode()).hexdigest()
    found = cache.get(key)
    if found is None:
        client = client_for(account)
        found = [
            {"label": f"#{g.code} — {g.name} (group)", "value": f"#{g.code}"}
            for g in client.get_contact_group(query, c=20)
            if g.code
        ] + [
            {"label": f"{c.name} — {c.mobile}", "value": c.mobile}
            for c in client.get_contact(query, c=20)
            if c.mobile
        ]
        cache.set(key, found, CONTACTS_CACHE_SECONDS)
    return found


# --- writing the send ---------------------------------------------------------------------------


def _audit_params(send: Send) -> dict:
    return {
        "send": send.pk,
        "destinations": send.destinations_total,
        "scheduled_for": send.scheduled_for.isoformat() if send.scheduled_for else "",
        "source": send.source,
    }


@audits_refusals("pv")
def send_message(
    *,
    actor,
    account: BearSMSAccount,
    recipients: str,
    text: str,
    sender: str = "",
    footer: bool = True,
    flash: bool = False,
    scheduled_for: datetime | None = None,
    scheduled_zone: str = "",
    confirmed: bool = False,
    source: str = Send.Source.COMPOSE,
    form_key: str | None = None,
) -> Send:
    """Write a send and its destinations, audit it and queue its submission.

    Raises :class:`NeedsConfirmation` when there are warnings and ``confirmed`` is False.
    ``form_key`` is the compose form's one-time key (``accounts.idempotency``): the same form
    sent again returns the send it made the first time, and nothing is sent twice.
    """

    def create() -> Send:
        prepared = prepare(
            actor=actor,
            account=account,
            recipients=recipients,
            text=text,
            sender=sender,
            footer=footer,
            scheduled_for=scheduled_for,
        )
        if prepared.warnings and not confirmed:
            raise NeedsConfirmation(prepared.warnings)
        parsed = prepared.parsed
        send = Send(
            account=account,
            created_by=actor if getattr(actor, "pk", None) else None,
            created_by_username=actor.get_username() if getattr(actor, "pk", None) else "",
            source=source,
            text=prepared.text,
            sender=(sender or "").strip(),
            footer=footer,
            message_type=Send.MessageType.FLASH if flash else Send.MessageType.TEXT,
            encoding=prepared.encoding,
            segments=prepared.segments,
            scheduled_for=scheduled_for,
            scheduled_zone=scheduled_zone,
            entries_total=parsed.entries,
            duplicates_dropped=parsed.duplicates,
            invalid_entries=len(parsed.errors),
            destinations_total=parsed.count,
            concurrency=settings.SEND_CONCURRENCY,
            warnings=prepared.warnings,
            form_key=form_key or None,
        )
        _write(actor, send, parsed)
        return send

    send, created = Send.create_once(form_key, actor=actor, create=create)
    if created:
        start_send(send)
    return send


def _write(actor, send: Send, parsed: rcpt.ParsedRecipients) -> None:
    """The send, its destinations and its audit entry, in one transaction."""
    with transaction.atomic():
        send.save()
        SendDestination.objects.bulk_create(
            SendDestination(
                send=send,
                position=r.position,
                kind=r.kind,
                address=r.address,
                entered=r.entered,
            )
            for r in parsed.recipients
        )
        audit_send(actor, send)


def audit_send(actor, send: Send) -> None:
    """The one audit entry of a send (who, as which account, how many, scheduled for)."""
    when = f", scheduled for {send.scheduled_for:%Y-%m-%d %H:%M %Z}" if send.scheduled_for else ""
    with audited(
        actor=actor, action="pv", target=send.account, params=_audit_params(send)
    ) as audit:
        entry = audit.succeeded(
            f"Send #{send.pk}: {send.destinations_total} destination(s) queued{when}."
        )
    Send.objects.filter(pk=send.pk).update(audit_entry=entry)
    send.audit_entry = entry


def start_send(send: Send) -> None:
    """Queue the submission of a written send (after its transaction commits)."""
    send_id = send.pk
    transaction.on_commit(lambda: enqueue("messaging.submit_send", send_id))


# --- submitting ----------------------------------------------------------------------------------


def submit_send(*, send_id: int) -> str:
    """Submit every queued destination of the send, ``concurrency`` requests in flight.

    Safe to run twice at once: each destination is claimed before its request.
    """
    send = Send.objects.select_related("account").filter(pk=send_id).first()
    if send is None:
        return "gone"
    if send.state not in (Send.State.QUEUED, Send.State.SENDING):
        return send.state
    reason = account_unavailable_reason(send.account)
    if reason:
        _fail_send(send, reason)
        return "failed"
    now = timezone.now()
    Send.objects.filter(pk=send.pk, state=Send.State.QUEUED).update(
        state=Send.State.SENDING, started_at=now, progress_at=now
    )
    steering = _Steering(send.pk)
    workers = max(1, min(send.concurrency or 1, send.destinations_total or 1))
    if workers == 1:
        _submitter(send, steering, in_thread=False)
    else:
        with ThreadPoolExecutor(workers, thread_name_prefix=f"send{send.pk}") as pool:
            for future in [pool.submit(_submitter, send, steering) for _ in range(workers)]:
                future.result()
    return finish_if_done(send_id=send.pk)


#: The states in which a send's destinations may be claimed. A pause or a cancel takes the
#: send out of them, and from its commit on no claim succeeds (see :func:`claim_block`).
RUNNING = (Send.State.QUEUED, Send.State.SENDING)
#: How often the submitters of a send write its progress time, between them.
PROGRESS_EVERY = 1.0


class _Steering:
    """What the submitters of one send share: whether one of them stopped the whole send
    (``stop``), and when its progress time was last written (at most every
    :data:`PROGRESS_EVERY` seconds, so eight threads do not queue on the send's row)."""

    def __init__(self, send_id: int):
        self.send_id = send_id
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._written = time.monotonic()

    def progressed(self) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._written < PROGRESS_EVERY:
                return
            self._written = now
        Send.objects.filter(pk=self.send_id).update(progress_at=timezone.now())


def _submitter(send: Send, steering: _Steering, *, in_thread: bool = True) -> None:
    """One submitter: claim, send, record, until nothing is queued (or the send stops).

    The answer to one request is written by the statement that claims the next destination
    (:func:`claim_block`): one round trip to the database per request instead of two."""
    answers: list[Answer] = []
    try:
        client = client_for(send.account)
        per_request = client.destinations_per_request
        while not steering.stop.is_set():
            if per_request > 1:
                write_answers(answers)
                batch = claim_batch(send.pk, per_request)
            else:
                batch = claim_block(send.pk, 1, answer=answers[-1] if answers else None)
                answers.clear()
            if not batch:  # nothing queued, or the send was paused, cancelled or failed
                return
            for destination in batch:
                destination.send = send  # its text, without a query per destination
            if _submit_batch(client, send, batch, steering, answers=answers) == "stop":
                steering.stop.set()
    except AccountNotLinked as exc:
        steering.stop.set()
        _fail_send(send, f"The account is not linked ({exc.reason or 'no token'}).")
    finally:
        write_answers(answers)  # the last answer, when the send stopped before another claim
        Send.objects.filter(pk=send.pk).update(progress_at=timezone.now())
        if in_thread:
            connection.close()


@dataclass
class Answer:
    """What a request's answer writes on its destination (``values``: field → value), held
    until the submitter's next claim writes it (:func:`claim_block`)."""

    destination_id: int
    values: dict


def write_answers(answers: list[Answer]) -> None:
    """Write held answers on their own, without waiting for the disk (one round trip each)."""
    while answers:
        answer = answers.pop(0)
        update_unflushed(SendDestination.objects.filter(pk=answer.destination_id), **answer.values)


def claim_block(send_id: int, size: int, *, answer: Answer | None = None) -> list[SendDestination]:
    """Claim up to ``size`` queued destinations of the send in one statement (``queued`` →
    ``sending``), in order, **only while the send is running**; of any number of callers,
    one wins each row. The submitters claim one destination right before its request, so a
    pause or a cancel stops the send at once: only requests already in flight finish.

    ``answer``: the answer to the caller's previous request, written by the same statement on
    PostgreSQL (a data-modifying ``WITH``, run once whatever the claim finds: also when the
    send was paused or nothing is left), so a submitter makes one round trip per request. The
    claim is a durable commit, and so the answer is durable too. Elsewhere the answer is
    written first, on its own.

    PostgreSQL: ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) AND EXISTS (the send
    is running, FOR SHARE) RETURNING``, one round trip. The share lock on the send's row makes
    a claim and a pause (an UPDATE of that row) take turns: a claim that meets an uncommitted
    pause waits for it, then reads the new state and claims nothing. SQLite runs the same
    UPDATE under its database write lock, which serialises it with the pause just as well.
    Databases that cannot return rows from an UPDATE claim one row at a time.
    """
    combined = answer is not None and connection.features.has_select_for_update_skip_locked
    if answer is not None and not combined:
        write_answers([answer])
    if not connection.features.can_return_columns_from_insert:
        claimed = []
        while len(claimed) < size and (destination := claim_next(send_id)) is not None:
            claimed.append(destination)
        return claimed
    table = SendDestination._meta.db_table
    send_table = Send._meta.db_table
    columns = ", ".join(
        connection.ops.quote_name(f.column) for f in SendDestination._meta.concrete_fields
    )
    # Names from the model, values as parameters.
    pick = (
        f"SELECT id FROM {table} WHERE send_id = %s AND state = %s "  # noqa: S608
        "AND group_id IS NULL ORDER BY id LIMIT %s"
    )
    running = f"SELECT 1 FROM {send_table} WHERE id = %s AND state IN (%s, %s)"  # noqa: S608
    if connection.features.has_select_for_update_skip_locked:
        # Picked once (a materialized CTE): a subquery in the WHERE clause may be run again by
        # the planner, and with SKIP LOCKED each run picks other rows — more than ``size``.
        head = f"WITH picked AS MATERIALIZED ({pick} FOR UPDATE SKIP LOCKED) "
        pick = "SELECT id FROM picked"
        running += " FOR SHARE"
    else:
        head = ""
    answering = ()
    if combined:  # the answer first: its UPDATE, then the claim's pick, in one WITH
        row = SendDestination.objects.filter(pk=answer.destination_id)
        answered, answering = update_statement(row, **answer.values)
        head = f"WITH answered AS ({answered}), {head.removeprefix('WITH ')}"
    sql = (
        f"{head}UPDATE {table} SET state = %s, claimed_at = %s "  # noqa: S608
        f"WHERE state = %s AND id IN ({pick}) AND EXISTS ({running}) RETURNING {columns}"
    )
    now = timezone.now()
    picking = [send_id, State.QUEUED, size]
    setting = [State.SENDING, now, State.QUEUED]
    params = (
        [*answering, *picking, *setting, send_id, *RUNNING]
        if head
        else [*setting, *picking, send_id, *RUNNING]
    )
    claimed = sorted(SendDestination.objects.raw(sql, params), key=lambda d: d.pk)
    for destination in claimed:
        destination.claimed_at = now  # as written (the RETURNING value may come back naive)
    return claimed


def claim_next(send_id: int, *, joinable: bool = False) -> SendDestination | None:
    """Claim the next queued destination of the send (``queued`` → ``sending``) while the
    send is running, or None. ``joinable``: only a number with the send's own text (it can
    share a request).

    The conditional UPDATE is the claim: of any number of callers, one wins each row. The
    send's row is locked first, so a pause or a cancel and a claim take turns.
    """
    while True:
        with transaction.atomic():
            running = Send.objects.filter(pk=send_id, state__in=RUNNING)
            if running.select_for_update().values_list("pk", flat=True).first() is None:
                return None
            candidates = SendDestination.objects.filter(
                send_id=send_id, state=State.QUEUED, group__isnull=True
            ).order_by("id")
            if joinable:
                candidates = candidates.filter(kind=Kind.NUMBER, text="")
            if connection.features.has_select_for_update_skip_locked:
                candidates = candidates.select_for_update(skip_locked=True)
            destination = candidates.first()
            if destination is None:
                return None
            now = timezone.now()
            won = SendDestination.objects.filter(pk=destination.pk, state=State.QUEUED).update(
                state=State.SENDING, claimed_at=now
            )
        if won:
            destination.state, destination.claimed_at = State.SENDING, now
            return destination


def claim_batch(send_id: int, size: int = 1) -> list[SendDestination]:
    """Claim what one pv request will carry: one destination, or up to ``size`` numbers with
    the same text when the server takes lists (``BEARSMS_DESTINATIONS_PER_REQUEST``)."""
    first = claim_next(send_id)
    if first is None:
        return []
    batch = [first]
    if first.kind == Kind.NUMBER and not first.text:
        while len(batch) < size:
            more = claim_next(send_id, joinable=True)
            if more is None:
                break
            batch.append(more)
    return batch


def _pv(client, send: Send, batch: list[SendDestination]):
    body = batch[0].body
    # A time that has come while the send waited in the queue: it goes now (the server would
    # send a past schedule at once anyway, and the client refuses to write one).
    schedule = send.scheduled_for
    if schedule is not None and schedule <= timezone.now() + timedelta(seconds=5):
        schedule = None
    return client.send_message(
        [d.address for d in batch] if len(batch) > 1 else batch[0].address,
        body,
        sender=send.sender or None,
        nofooter=not send.footer,
        unicode=count_segments(body).encoding == UCS2,
        msg_type="flash" if send.message_type == Send.MessageType.FLASH else None,
        schedule=schedule,
    )


def _submit_batch(
    client,
    send: Send,
    batch: list[SendDestination],
    steering: _Steering | None = None,
    *,
    answers: list[Answer] | None = None,
) -> str:
    """Send claimed destinations (one request) and record what happened; "stop" ends the
    whole send. ``answers``: where an answer that queued one number or ``@user`` is held for
    the caller's next claim to write (:func:`claim_block`) instead of being written now."""
    try:
        results = _pv(client, send, batch)
    except (api.AuthenticationFailed, api.AuthBlocked) as exc:
        reason = (
            "BearSMS refused the account's token (ERR "
            f"{exc.code}): link the account again; nothing more was sent."
        )
        _record_all(batch, State.REFUSED, reason=reason)
        _fail_send(send, reason)
        return "stop"
    except api.InvalidDestination as exc:
        rows = getattr(exc, "results", None) or []
        if len(batch) == 1 and rows:
            _record_results(batch[0], rows, note=str(exc))
        elif rows:  # the server answered for other numbers than asked: not settled here
            _record_all(batch, State.UNKNOWN, reason=f"{UNKNOWN_REASON} ({exc})")
        else:
            _record_all(batch, State.REFUSED, reason=f"Not sent: {exc}.")
    except (api.OutcomeUnknown, api.TransportError, api.ProtocolError) as exc:
        if isinstance(exc, api.SendRejected):
            reason = REFUSED_500_BY_KIND.get(batch[0].kind, REFUSED_500)
            _record_all(batch, State.REFUSED, reason=reason)
        else:
            _record_all(batch, State.UNKNOWN, reason=UNKNOWN_REASON)
            for destination in batch:
                enqueue_resolution(destination.pk, countdown=settings.SEND_RESOLVE_DELAY)
    except api.BearSMSError as exc:
        _record_all(batch, State.REFUSED, reason=_refusal_reason(exc))
    else:
        # The claim was durable; should a crash lose this record (the process before its next
        # claim, or the database before its disk), the destination is found "sending",
        # becomes outcome unknown and is settled through ds.
        if len(batch) == 1 and answers is not None and batch[0].kind != Kind.GROUP:
            values = {"finished_at": timezone.now(), **_answer_values(results[0])}
            answers.append(Answer(batch[0].pk, values))
        elif len(batch) == 1:
            _record_results(batch[0], results, flushed=False)
        else:
            with unflushed():
                for destination, row in zip(batch, results, strict=True):
                    _record_results(destination, [row], flushed=False)
    if steering is not None:
        steering.progressed()
    else:
        Send.objects.filter(pk=send.pk).update(progress_at=timezone.now())
    return ""


def _refusal_reason(exc: api.BearSMSError) -> str:
    code = getattr(exc, "code", None)
    if isinstance(exc, api.EmptyDestinationOrMessage):
        return REFUSED_201
    if isinstance(exc, api.SendFailed):
        return _refusal_of(code)
    if code == 103:
        return "Not enough credit: the server refused to queue it (ERR 103)."
    return f"BearSMS refused it: {exc}."


def _record_all(batch: list[SendDestination], state: str, **fields) -> None:
    SendDestination.objects.filter(pk__in=[d.pk for d in batch]).update(
        state=state, finished_at=timezone.now(), **fields
    )


def _refusal_of(code: int | None) -> str:
    if code == 200:
        return "The server refused it (ERR 200): the number is on the stoplist."
    return f"The server refused it (ERR {code or '?'})."


def _record(destination: SendDestination, state: str, *, flushed: bool = True, **fields) -> None:
    """Write the destination's outcome; ``flushed=False``: without waiting for the disk, in one
    round trip (:func:`update_unflushed`)."""
    values = {"state": state, "finished_at": timezone.now(), **fields}
    row = SendDestination.objects.filter(pk=destination.pk)
    if flushed:
        row.update(**values)
    else:
        update_unflushed(row, **values)


def _answer_values(row, note: str = "") -> dict:
    """The fields a pv answer row writes on the destination of a number or ``@user``."""
    if row.ok:
        return {
            "state": State.SUBMITTED,
            "smslog_id": row.smslog_id,
            "queue": row.queue,
            "server_to": row.to[:40],
            "reason": note,
        }
    return {"state": State.REFUSED, "reason": _refusal_of(row.error)}


def _record_results(
    destination: SendDestination, rows, note: str = "", *, flushed: bool = True
) -> None:
    """Record a pv answer: one row for a number or @user; one member row per number for a
    #group (the group row itself becomes submitted). ``flushed=False``: the record does not
    wait for the disk (see :func:`_submit_batch`)."""
    now = timezone.now()
    if destination.kind != Kind.GROUP:
        _record(destination, flushed=flushed, **_answer_values(rows[0], note))
        return
    if not any(row.ok for row in rows):
        _record(
            destination,
            State.REFUSED,
            flushed=flushed,
            reason="The server queued no message for this group: no group matches the code, "
            "it is empty, or all its numbers are stoplisted.",
        )
        return
    members = [
        SendDestination(
            send_id=destination.send_id,
            position=destination.position,
            kind=Kind.MEMBER,
            address=(row.to or "")[:100],
            entered=destination.address,
            group=destination,
            state=State.SUBMITTED if row.ok else State.REFUSED,
            claimed_at=destination.claimed_at,
            finished_at=now,
            smslog_id=row.smslog_id if row.ok else None,
            queue=row.queue,
            server_to=(row.to or "")[:40],
            reason="" if row.ok else _refusal_of(row.error),
        )
        for row in rows
    ]
    with transaction.atomic() if flushed else unflushed():
        SendDestination.objects.bulk_create(members)
        queue = next((row.queue for row in rows if row.queue), "")
        _record(
            destination,
            State.SUBMITTED,
            queue=queue,
            reason=f"{sum(r.ok for r in rows)} of {len(rows)} member(s) queued.",
        )


def _fail_send(send: Send, reason: str) -> None:
    """Nothing more can be submitted: queued destinations are refused with ``reason``."""
    now = timezone.now()
    with transaction.atomic():
        SendDestination.objects.filter(send_id=send.pk, state=State.QUEUED).update(
            state=State.REFUSED, reason=reason, finished_at=now
        )
        Send.objects.filter(pk=send.pk).exclude(state=Send.State.CANCELLED).update(
            state=Send.State.FAILED, error=reason, finished_at=now
        )


def finish_if_done(*, send_id: int) -> str:
    """Mark the send done when no destination is queued or in flight."""
    busy = SendDestination.objects.filter(
        send_id=send_id, state__in=(State.QUEUED, State.SENDING)
    ).exists()
    if busy:
        return "sending"
    Send.objects.filter(pk=send_id, state__in=(Send.State.QUEUED, Send.State.SENDING)).update(
        state=Send.State.DONE, finished_at=timezone.now()
    )
    return "done"


# --- unknown outcomes ----------------------------------------------------------------------------


def enqueue_resolution(destination_id: int, *, countdown: float = 0) -> None:
    from celery import signature

    signature("messaging.resolve_unknown", args=(destination_id,)).apply_async(countdown=countdown)


def _same_text(sent: str, listed: str) -> bool:
    """ds shows the text without footer, every " as ', maybe truncated (BearSMS §4.2)."""
    sent = sent.replace('"', "'").strip()
    listed = listed.strip()
    return bool(listed) and (sent == listed or sent.startswith(listed))


def _same_number(address: str, dst: str) -> bool:
    digits = "".join(ch for ch in dst if ch.isdigit())
    return bool(digits) and (digits == address or address.endswith(digits[-9:]))


def find_in_ds(client, destination: SendDestination) -> int | None:
    """The smslog_id of this destination's message in ``ds``, or None when it is not there.

    Rows already linked to another portal destination of the account are not candidates.
    """
    send = destination.send
    since = (destination.claimed_at or send.created_at) - timedelta(minutes=2)
    if send.scheduled_for:
        since = min(since, send.scheduled_for - timedelta(minutes=2))
    rows = client.delivery_status(dst=destination.address, c=500)
    taken = set(
        SendDestination.objects.filter(send__account_id=send.account_id, smslog_id__isnull=False)
        .exclude(pk=destination.pk)
        .filter(smslog_id__in=[r.smslog_id for r in rows])
        .values_list("smslog_id", flat=True)
    )
    for row in sorted(rows, key=lambda r: r.smslog_id):
        if row.smslog_id in taken or not _same_number(destination.address, row.dst):
            continue
        if row.dt is not None and row.dt < since:
            continue
        if _same_text(destination.body, row.msg):
            return row.smslog_id
    return None


def _due_at(destination: SendDestination) -> datetime:
    send = destination.send
    return max(filter(None, [destination.claimed_at, send.scheduled_for, send.created_at]))


def resolve_unknown(*, destination_id: int) -> str:
    """Settle an unknown outcome from ``ds``; never by sending again. Retried by the watchdog
    while the message could still appear (it shows in ds only once dispatched)."""
    destination = (
        SendDestination.objects.select_related("send__account").filter(pk=destination_id).first()
    )
    if destination is None or destination.state != State.UNKNOWN:
        return "settled"
    if destination.kind != Kind.NUMBER:
        _note_unresolved(destination, "An @user or #group send cannot be looked up in ds.")
        return "unknown"
    try:
        client = client_for(destination.send.account)
        smslog_id = find_in_ds(client, destination)
    except (AccountNotLinked, api.BearSMSError) as exc:
        _note_unresolved(destination, f"ds could not be read ({type(exc).__name__}).")
        return "unknown"
    if smslog_id is not None:
        SendDestination.objects.filter(pk=destination.pk, state=State.UNKNOWN).update(
            state=State.SUBMITTED,
            smslog_id=smslog_id,
            resolution=f"Found in ds as smslog_id {smslog_id}.",
            resolved_at=timezone.now(),
            resolve_attempts=destination.resolve_attempts + 1,
        )
        finish_if_done(send_id=destination.send_id)
        return "submitted"
    waited = timezone.now() - _due_at(destination)
    _note_unresolved(
        destination,
        f"Not in ds {int(waited.total_seconds() // 60)} min after it was due.",
    )
    return "unknown"


def _note_unresolved(destination: SendDestination, note: str) -> None:
    SendDestination.objects.filter(pk=destination.pk).update(
        resolve_attempts=destination.resolve_attempts + 1, resolution=note[:200]
    )


@audits_refusals("resolve")
def resolve_by_hand(*, actor, destination: SendDestination, submitted: bool) -> SendDestination:
    """A person settles an unknown outcome: first ds is asked once more; if it still does not
    show, ``submitted`` says what the person decided (arrived → submitted; else refused)."""
    ensure_can(actor, "pv", destination.send.account)
    if destination.state != State.UNKNOWN:
        raise ServiceError("This destination's outcome is already known.")
    with audited(
        actor=actor,
        action="resolve",
        target=destination.send.account,
        params={"send": destination.send_id, "destination": destination.address},
    ) as audit:
        if resolve_unknown(destination_id=destination.pk) == "submitted":
            audit.note("found in ds")
        else:
            who = actor.get_username()
            SendDestination.objects.filter(pk=destination.pk, state=State.UNKNOWN).update(
                state=State.SUBMITTED if submitted else State.REFUSED,
                resolution=(f"Marked {'submitted' if submitted else 'not sent'} by hand by {who}."),
                resolved_at=timezone.now(),
            )
            audit.note("marked submitted" if submitted else "marked not sent")
        finish_if_done(send_id=destination.send_id)
    destination.refresh_from_db()
    return destination


@audits_refusals("resend")
def resend_by_hand(*, actor, destination: SendDestination) -> SendDestination:
    """A person decided an unknown destination never went out: send it again, once (audited).

    The old row is closed as "not sent" and a new row of the same send takes its place.
    """
    ensure_can_send(actor, destination.send.account)
    if destination.state != State.UNKNOWN:
        raise ServiceError("Only a destination whose outcome is unknown can be resent by hand.")
    send = destination.send
    with audited(
        actor=actor,
        action="resend",
        target=send.account,
        params={"send": send.pk, "destination": destination.address},
    ) as audit:
        with transaction.atomic():
            closed = SendDestination.objects.filter(pk=destination.pk, state=State.UNKNOWN).update(
                state=State.REFUSED,
                address=f"{destination.address}~{destination.pk}",
                resolution=f"Resent by hand by {actor.get_username()}.",
                resolved_at=timezone.now(),
            )
            if not closed:
                raise ServiceError("Someone else settled this destination meanwhile.")
            fresh = SendDestination.objects.create(
                send=send,
                position=destination.position,
                kind=destination.kind,
                address=destination.address,
                entered=destination.entered,
                text=destination.text,
            )
            Send.objects.filter(pk=send.pk).exclude(state=Send.State.CANCELLED).update(
                state=Send.State.SENDING, finished_at=None
            )
        claimed = claim_next_exact(fresh.pk)
        client = client_for(send.account)
        _submit_batch(client, send, [claimed])
        fresh.refresh_from_db()
        audit.note(f"resend: {fresh.state}")
        finish_if_done(send_id=send.pk)
    return fresh


def claim_next_exact(destination_id: int) -> SendDestination:
    now = timezone.now()
    won = SendDestination.objects.filter(pk=destination_id, state=State.QUEUED).update(
        state=State.SENDING, claimed_at=now
    )
    if not won:
        raise ServiceError("This destination was already claimed.")
    return SendDestination.objects.select_related("send").get(pk=destination_id)


# --- the watchdog (beat) -----------------------------------------------------------------------


def watchdog(*, now: datetime | None = None) -> dict:
    """Keep sends moving after crashes: claims whose worker died become unknown (and are looked
    up in ds); sends with queued destinations and no recent progress are submitted again."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.BEARSMS_TIMEOUT * 3 + 30)
    orphaned = list(
        SendDestination.objects.filter(state=State.SENDING, claimed_at__lt=stale).values_list(
            "pk", flat=True
        )
    )
    if orphaned:
        SendDestination.objects.filter(pk__in=orphaned, state=State.SENDING).update(
            state=State.UNKNOWN,
            reason="The worker stopped while this request was in flight: "
            + UNKNOWN_REASON.split(": ", 1)[1],
            finished_at=now,
        )
    stalled = Send.objects.filter(
        Q(progress_at__lt=now - timedelta(seconds=settings.SEND_STALL_AFTER))
        | Q(progress_at__isnull=True, created_at__lt=now - timedelta(seconds=30)),
        state__in=(Send.State.QUEUED, Send.State.SENDING),
    ).values_list("pk", flat=True)
    for send_id in stalled:
        if finish_if_done(send_id=send_id) == "sending":
            Send.objects.filter(pk=send_id).update(progress_at=now)
            enqueue("messaging.submit_send", send_id)
    # A scheduled message shows in ds only once dispatched: look for it after its time.
    unresolved = (
        SendDestination.objects.filter(
            state=State.UNKNOWN,
            kind=Kind.NUMBER,
            resolve_attempts__lt=settings.SEND_RESOLVE_ATTEMPTS,
        )
        .filter(Q(send__scheduled_for__isnull=True) | Q(send__scheduled_for__lte=now))
        .values_list("pk", flat=True)[:200]
    )
    for destination_id in unresolved:
        enqueue("messaging.resolve_unknown", destination_id)
    return {"orphaned": len(orphaned), "stalled": len(stalled), "resolving": len(unresolved)}
