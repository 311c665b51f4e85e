"""Unknown outcomes: a write whose answer was lost is settled later, by asking the server.

An answer lost is not an answer. When a write times out, or a proxy answers 502/504 for it, the
server may still be running the op (PHP carries on after the client gave up), so asking at once
("does the account exist?") can see the state from *before* the op. The rule for every write
service:

1. **Recorded as unknown.** ``accounts.audit`` writes the entry with outcome *unknown*, sets its
   ``settle_after`` (now + ``BEARSMS_TIMEOUT`` + ``SETTLE_MARGIN``: by then the op can no longer
   be running) and marks the account ``unconfirmed`` with the action, which the pages show as
   "we could not confirm — checking". An entry left *pending* by a process that died mid-call
   is treated the same way by the sweep.
2. **Settled by asking, never at once.** The beat task ``accounts.settle_unknown`` runs
   :func:`settle_due`: each due entry goes to the settler of its action (:data:`SETTLERS`),
   which reads the server and returns applied / not applied / cannot tell. Applied and not
   applied complete the entry (outcome success or failure, with a note) and bring the local
   record in line; cannot tell tries again with backoff (``SETTLE_MARGIN × 2^attempts``,
   capped at ``SETTLE_BACKOFF_MAX``).
3. **A retry waits for the settlement.** :func:`ensure_settled` (called by ``audited`` before a
   write starts) refuses a write on the same account (or, without an account, with the same
   parameters) while an earlier one is unknown — or settles that one first when it is due.

An answer that did come back from PHP itself (HTTP 500 with its empty body, a 200 that does not
parse) means the op has finished: :func:`answer_is_final` lets a service ask at once in that
case, as ``accountadd`` must on 1.4.8 (it answers 500 after creating the account).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from bearsms_portal import bearsms as api

from . import configuration
from .errors import ServiceError
from .models import AuditEntry, BearSMSAccount, CreditLedgerEntry

log = logging.getLogger("accounts.settling")

Outcome = AuditEntry.Outcome
APPLIED, NOT_APPLIED = True, False

UNCONFIRMED = (
    "We could not confirm whether BearSMS applied this (the answer was lost) — checking with "
    "the server; the result shows here once it is known. It is not sent again meanwhile."
)


def answer_is_final(exc: BaseException) -> bool:
    """True when PHP itself answered (so the op has finished): HTTP 500, or a 200 body that
    does not parse. A time-out or a proxy's 502/503/504 says nothing about the op."""
    status = getattr(exc, "http_status", None)
    if status is None and exc.__cause__ is not None:
        status = getattr(exc.__cause__, "http_status", None)
    return status == 500 or (status == 200 and isinstance(exc, api.ProtocolError))


NEEDS_ATTENTION = (
    "The server cannot tell whether this was applied: check it in BearSMS and settle it by hand."
)


def _max_attempts() -> int:
    return int(getattr(settings, "SETTLE_MAX_ATTEMPTS", 10))


def _margin() -> float:
    return float(getattr(settings, "SETTLE_MARGIN", 10))


def first_settle_time():
    return timezone.now() + timedelta(seconds=float(settings.BEARSMS_TIMEOUT) + _margin())


def _next_settle_time(attempts: int):
    cap = float(getattr(settings, "SETTLE_BACKOFF_MAX", 3600))
    return timezone.now() + timedelta(seconds=min(cap, _margin() * 2**attempts))


def mark_unknown(entry: AuditEntry, account: BearSMSAccount | None) -> None:
    """Called by ``accounts.audit`` in the transaction that writes an unknown entry."""
    entry.settle_after = first_settle_time()
    entry.save(update_fields=["settle_after"])
    if account is not None and account.pk:
        BearSMSAccount.objects.filter(pk=account.pk).update(unconfirmed=entry.action)
        account.unconfirmed = entry.action


def _unsettled() -> Q:
    return Q(outcome=Outcome.UNKNOWN, settle_after__isnull=False)


def ensure_settled(
    *, action: str, target: BearSMSAccount | None, target_username: str, params: dict | None
) -> None:
    """Refuse a write while an earlier write of the same kind on the same account (or, without
    one, with the same parameters) is unknown; settle that one first if it is due."""
    qs = AuditEntry.objects.filter(_unsettled(), action=action)
    if target is not None and target.pk:
        qs = qs.filter(target=target)
    elif target_username:
        qs = qs.filter(target_username=target_username)
    else:
        qs = qs.filter(target__isnull=True, target_username="")
    same = [e for e in qs.order_by("id") if target or target_username or _same(e, params)]
    for entry in same:
        if entry.settle_after <= timezone.now():
            settle(entry)
            entry.refresh_from_db()
        if entry.outcome == Outcome.UNKNOWN:
            raise ServiceError(
                "An earlier attempt of this could not be confirmed yet and is being checked "
                "with the server: try again once it is settled (the page shows the result)."
            )


def _same(entry: AuditEntry, params: dict | None) -> bool:
    return (entry.details.get("params") or {}) == (params or {})


# --- the settlers: one per write action ----------------------------------------------------------


def _admin():
    from .clients import admin_client

    return admin_client()


def _exists(username: str) -> bool:
    try:
        _admin().parent_get(username)
    except api.NoParent:
        return True
    except api.UnknownUser:
        return False
    return True


def _settle_accountadd(entry: AuditEntry) -> bool:
    account = BearSMSAccount.objects.filter(username=entry.target_username).first()
    if _exists(entry.target_username):
        if account is not None:
            _link_after_create(entry, account)
        return APPLIED
    if account is not None:
        with transaction.atomic():
            AuditEntry.objects.filter(target=account).update(target=None)
            account.delete()
    return NOT_APPLIED


def _link_after_create(entry: AuditEntry, account: BearSMSAccount) -> None:
    from . import crypto
    from .services import _try_link

    password = crypto.decrypt(account.pending_password_encrypted)
    BearSMSAccount.objects.filter(pk=account.pk).update(unconfirmed="")
    account.unconfirmed = ""
    if password and not account.is_linked:
        _try_link(actor=entry.actor, account=account, password=password)


def _settle_accountremove(entry: AuditEntry) -> bool:
    if _exists(entry.target_username):
        return NOT_APPLIED
    account = BearSMSAccount.objects.filter(username=entry.target_username).first()
    if account is not None:
        with transaction.atomic():
            AuditEntry.objects.filter(target=account).update(target=None)
            CreditLedgerEntry.objects.filter(account=account).update(account=None)
            account.delete()
    return APPLIED


def _settle_parentset(entry: AuditEntry) -> bool:
    wanted = (entry.details.get("params") or {}).get("parent")
    try:
        current = _admin().parent_get(entry.target_username).parent
    except api.NoParent:
        current = None
    if current != wanted:
        return NOT_APPLIED
    parent = BearSMSAccount.objects.filter(username=wanted).first()
    if entry.target_id and parent is not None:
        BearSMSAccount.objects.filter(pk=entry.target_id).update(
            parent=parent, level=BearSMSAccount.Level.SUBACCOUNT
        )
    return APPLIED


def _resend(entry: AuditEntry) -> bool:
    """For ops whose repeat sets the same state (ban, unban, stoplist add): settle by sending
    the op again now that the first can no longer be running; the state ends the same."""
    params = entry.details.get("params") or {}
    client = _admin()
    account = entry.target
    if entry.action == "accountban":
        client.account_ban(entry.target_username)
        status = BearSMSAccount.Status.BANNED
    elif entry.action == "accountunban":
        with contextlib.suppress(api.NotBanned):
            client.account_unban(entry.target_username)
        status = BearSMSAccount.Status.ACTIVE
    elif entry.action == "stoplist":
        with contextlib.suppress(api.DuplicateStoplist):
            # Without the "+": the server checks duplicates on the exact string and stores
            # numbers without it, so only the plain form is refused (627) when already there.
            client.stoplist_add(params["number"].lstrip("+"))
        return APPLIED
    elif entry.action == "accountconf" and account is not None:
        send = params.get("values")
        if not send:
            return None
        client.account_conf(account.username, **configuration.conf_arguments(send))
        for field, value in send.items():
            setattr(account, field, value)
        account.save()
        return APPLIED
    elif entry.action == "accountpref" and account is not None:
        values = params.get("values") or {}
        if not values or "password" in params.get("fields", []):
            return None  # the password is never kept: only a person can repeat it
        with contextlib.suppress(api.AccountPrefFailed):  # 616: nothing left to change
            client.account_pref(account.username, **values)
        BearSMSAccount.objects.filter(pk=account.pk).update(**values)
        return APPLIED
    else:
        return None
    if account is not None:
        BearSMSAccount.objects.filter(pk=account.pk).update(status=status)
    return APPLIED


def _settle_inject(entry: AuditEntry) -> bool | None:
    """``inject`` returns no id: look for the message in ``sx`` (unhandled) and in the ``in``
    of the linked accounts (a keyword owner's). Found → applied; found nowhere on a second
    look (routing takes seconds) → not applied."""
    from .clients import client_for

    params = entry.details.get("params") or {}
    sender, text = params.get("from", ""), params.get("message")
    if text is None:
        return None
    if any(row.msg == text for row in _admin().sandbox(src=sender, c=50)):
        return APPLIED
    unreadable = False
    owners = (
        BearSMSAccount.objects.exclude(token_encrypted="")
        .exclude(status=BearSMSAccount.Status.BANNED)
        .exclude(parent__status=BearSMSAccount.Status.BANNED)
    )
    for account in owners[:50]:
        try:
            rows = client_for(account).incoming(src=sender, c=20)
        except api.BearSMSError:
            unreadable = True
            continue
        if any(row.msg == text for row in rows):
            return APPLIED
    if unreadable:
        return None
    return NOT_APPLIED if entry.settle_attempts >= 1 else None


def _settle_credit(entry: AuditEntry) -> bool | None:
    """``creditadd``/``creditdeduct``: the server figure read just before sending, the portal's
    own moves since, and the figure now. Only on a server whose figure follows at once."""
    from .transfers import server_figure_live

    params = entry.details.get("params") or {}
    before = params.get("figure_before")
    if before is None or not server_figure_live() or entry.target is None:
        return None
    try:
        now = _admin().credit_view(entry.target_username)
    except api.ZeroCredit:
        now = Decimal(0)
    moves = CreditLedgerEntry.objects.filter(
        account=entry.target, created_at__gt=entry.created_at
    ).aggregate(total=Sum("amount"))["total"] or Decimal(0)
    unchanged = Decimal(before) + moves
    amount = Decimal(params["amount"]) * (1 if entry.action == "creditadd" else -1)
    if now == unchanged + amount:
        from .services import _ledger

        kind = "add" if entry.action == "creditadd" else "deduct"
        _ledger(entry.target, kind, abs(amount), params.get("reason", ""), entry.actor, entry)
        return APPLIED
    if now == unchanged:
        return NOT_APPLIED
    return None


def _settle_set_token(entry: AuditEntry) -> bool | None:
    """The new token never came back: the old one proves the rotation did not happen; both
    refused means the account is not linked any more (link again with its password)."""
    from .clients import client_for
    from .services import ROTATION_LOST_REASON

    account = entry.target
    if account is None or not account.is_linked:
        return None
    try:
        client_for(account).query()
    except api.AuthenticationFailed:
        with transaction.atomic():
            account.token_encrypted = ""
            account.linked_at = None
            account.link_error = ROTATION_LOST_REASON
            account.save(update_fields=["token_encrypted", "linked_at", "link_error", "updated_at"])
        return APPLIED
    return NOT_APPLIED


SETTLERS: dict[str, Callable[[AuditEntry], bool | None]] = {
    "accountadd": _settle_accountadd,
    "accountremove": _settle_accountremove,
    "parentset": _settle_parentset,
    "accountban": _resend,
    "accountunban": _resend,
    "accountconf": _resend,
    "accountpref": _resend,
    "inject": _settle_inject,
    "stoplist": _resend,
    "creditadd": _settle_credit,
    "creditdeduct": _settle_credit,
    "set_token": _settle_set_token,
}

MESSAGES = {
    APPLIED: "Settled: the server shows it was applied.",
    NOT_APPLIED: "Settled: the server shows it was not applied (nothing changed).",
}


def settle(entry: AuditEntry) -> bool | None:
    """Ask the server about one unknown entry; complete it when the answer is clear."""
    settler = SETTLERS.get(entry.action)
    try:
        verdict = settler(entry) if settler else None
    except api.BearSMSError as exc:
        log.info("settling %s #%s: server not readable (%s)", entry.action, entry.pk, exc.code)
        verdict = None
    with transaction.atomic():
        entry = AuditEntry.objects.select_for_update().get(pk=entry.pk)
        if entry.outcome != Outcome.UNKNOWN:
            return None  # settled meanwhile by someone else
        notes = entry.details.setdefault("notes", [])
        if verdict is None:
            entry.settle_attempts += 1
            entry.settle_after = _next_settle_time(entry.settle_attempts)
            notes.append(f"settle attempt {entry.settle_attempts}: the server cannot tell yet")
            if entry.action not in SETTLERS or entry.settle_attempts >= _max_attempts():
                entry.settle_after = None  # left to a person: the entry stays unknown
                notes.append(NEEDS_ATTENTION)
            entry.save(update_fields=["settle_attempts", "settle_after", "details"])
            return None
        entry.outcome = Outcome.SUCCESS if verdict else Outcome.FAILURE
        entry.message = MESSAGES[verdict]
        entry.settle_after = None
        notes.append(MESSAGES[verdict])
        entry.save(update_fields=["outcome", "message", "settle_after", "details"])
        if entry.target_id:
            still = AuditEntry.objects.filter(_unsettled(), target_id=entry.target_id)
            if not still.exists():
                BearSMSAccount.objects.filter(pk=entry.target_id).update(unconfirmed="")
    log.info("settled %s #%s: %s", entry.action, entry.pk, "applied" if verdict else "not applied")
    return verdict


def settle_due(now=None) -> int:
    """Settle every due unknown entry, and adopt entries left pending by a dead process."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=float(settings.BEARSMS_TIMEOUT) + _margin())
    for entry in AuditEntry.objects.filter(outcome=Outcome.PENDING, created_at__lt=stale):
        if entry.action in SETTLERS:
            AuditEntry.objects.filter(pk=entry.pk, outcome=Outcome.PENDING).update(
                outcome=Outcome.UNKNOWN, settle_after=now, message=UNCONFIRMED
            )
    due = AuditEntry.objects.filter(_unsettled(), settle_after__lte=now).order_by("settle_after")
    count = 0
    for entry in due[:100]:
        settle(entry)
        count += 1
    return count
