"""The audit recorder used by every service: one entry per business action, whatever happens.

Usage inside a service::

    with audited(actor=actor, action="accountban", target=account) as audit:
        audit.call("accountban", admin_client().account_ban, account.username)
        with transaction.atomic():
            account.save(...)
            audit.succeeded()          # written in the same transaction as the local update

- ``audit.call`` runs one API call and records it as a step (op, result, ERR code); secrets are
  never passed to the recorder, only the op name and what came back.
- Leaving the block with an exception records a failure (or "outcome unknown") entry in its own
  transaction, and turns client exceptions into a :class:`ServiceError` in plain words.
- No database transaction is held while the API is called: the server may be slow, and the
  built-in sandbox writes to the same database.

Refusals (permission denied, input refused) usually happen before the ``audited`` block opens.
Each service is therefore wrapped in :func:`audits_refusals`, which writes a "refused" entry
when the service raises ``PermissionDenied`` or a ``ServiceError`` without having opened an
``audited`` block itself, so every refused attempt leaves a trace without each service
repeating it. Refusals come before any local write, so there is no partial state to undo.
"""

from __future__ import annotations

import functools
import logging
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction

from bearsms_portal import bearsms as api

from . import settling
from .errors import OutcomeUnknownError, ServiceError, explain
from .idempotency import current_submission
from .models import AuditEntry, BearSMSAccount

log = logging.getLogger("accounts.audit")


def describe(exc: BaseException) -> str:
    """A short, secret-free description of a client exception for the audit steps."""
    if isinstance(exc, api.ApiError):
        info = getattr(exc, "info", None)
        text = f"ERR {exc.code}"
        if exc.message:
            text += f" {exc.message}"
        if info:
            text += f" ({info})"
        return text
    status = getattr(exc, "http_status", None)
    if status:
        return f"{type(exc).__name__} (HTTP {status})"
    return type(exc).__name__


class AuditRecorder:
    def __init__(
        self,
        *,
        actor,
        action: str,
        target: BearSMSAccount | None,
        target_username: str,
        params: dict[str, Any] | None,
    ):
        self.actor = actor
        self.action = action
        self.target = target
        self.target_username = target_username or (target.username if target else "")
        self.steps: list[dict[str, Any]] = []
        self.params = params or {}
        self.entry: AuditEntry | None = None
        self.notes: list[str] = []

    # --- steps ------------------------------------------------------------------------------

    def call(self, op: str, func, *args, describe_result=None, **kwargs):
        """Run one API call and record it; client exceptions propagate after being recorded.

        ``describe_result(result)`` may give the step's ``(text, code)`` (default ``"OK"``)."""
        try:
            result = func(*args, **kwargs)
        except api.BearSMSError as exc:
            self.step(op, describe(exc), code=exc.code)
            raise
        text, code = describe_result(result) if describe_result else ("OK", None)
        self.step(op, text, code=code)
        return result

    def step(self, op: str, result: str, *, code: int | None = None) -> None:
        self.steps.append({"op": op, "result": result, **({"code": code} if code else {})})

    def note(self, text: str) -> None:
        self.notes.append(text)

    # --- the entry --------------------------------------------------------------------------

    def _write(self, outcome: str, *, code: int | None = None, message: str = "") -> AuditEntry:
        target = self.target if self.target is not None and self.target.pk else None
        details: dict[str, Any] = {"steps": self.steps}
        if self.params:
            details["params"] = self.params
        if self.notes:
            details["notes"] = self.notes
        submission = current_submission.get()
        if submission is not None:
            details["form_key"] = str(submission.key)
        actor = self.actor if getattr(self.actor, "pk", None) else None
        fields = {
            "actor": actor,
            "actor_username": actor.get_username() if actor else "",
            "action": self.action,
            "target": target,
            "target_username": self.target_username,
            "outcome": outcome,
            "error_code": code,
            "message": message[:2000],
            "details": details,
        }
        if self.entry is None:
            self.entry = AuditEntry.objects.create(**fields)
        else:  # completing the entry opened before the first API call
            for name, value in fields.items():
                setattr(self.entry, name, value)
            self.entry.save()
        return self.entry

    def open(self) -> AuditEntry:
        """Write the entry as pending before the first API call (with the form key, if any),
        so a process that dies mid-action leaves a trace that ``accounts.settling`` finds."""
        with transaction.atomic():
            return self._write(AuditEntry.Outcome.PENDING)

    def needs_entry(self) -> bool:
        """True unless the entry was completed and survived (its transaction may have rolled
        back, leaving it pending)."""
        return (
            self.entry is None
            or not AuditEntry.objects.filter(pk=self.entry.pk)
            .exclude(outcome=AuditEntry.Outcome.PENDING)
            .exists()
        )

    def succeeded(self, message: str = "", *, code: int | None = None) -> AuditEntry:
        """Record success (call inside the transaction that holds the local update)."""
        return self._write(AuditEntry.Outcome.SUCCESS, code=code, message=message)

    def failed(
        self, message: str, *, code: int | None = None, outcome: str = AuditEntry.Outcome.FAILURE
    ) -> AuditEntry:
        if outcome == AuditEntry.Outcome.UNKNOWN:
            return self.unknown(message, code=code)
        return self._write(outcome, code=code, message=message)

    def unknown(self, message: str, *, code: int | None = None) -> AuditEntry:
        """Record an outcome that is not known: settled later by ``accounts.settling``, and
        the account is marked unconfirmed meanwhile (call inside a transaction)."""
        entry = self._write(AuditEntry.Outcome.UNKNOWN, code=code, message=message)
        settling.mark_unknown(entry, self.target)
        return entry


@contextmanager
def audited(
    *,
    actor,
    action: str,
    target: BearSMSAccount | None = None,
    target_username: str = "",
    params: dict[str, Any] | None = None,
):
    """Audit one business action; see the module docstring."""
    recorder = AuditRecorder(
        actor=actor, action=action, target=target, target_username=target_username, params=params
    )
    if _is_write(action):  # a retry waits until an earlier unknown outcome is settled
        settling.ensure_settled(
            action=action, target=target, target_username=target_username, params=params
        )
    opened = _service_call.get()
    if opened is not None:
        opened.append(action)
    recorder.open()
    try:
        yield recorder
    except api.BearSMSError as exc:
        field, message = explain(exc, op=action, username=recorder.target_username)
        unknown = _is_write(action) and isinstance(exc, UNKNOWN_FAULTS)
        if unknown:
            field, message = None, settling.UNCONFIRMED
        if recorder.needs_entry():
            with transaction.atomic():
                if unknown:
                    recorder.unknown(message, code=exc.code)
                else:
                    recorder.failed(message, code=exc.code)
        log.info("%s on %s failed: %s", action, recorder.target_username or "-", describe(exc))
        error_class = OutcomeUnknownError if unknown else ServiceError
        raise error_class(message, field=field, code=exc.code) from exc
    except ServiceError as exc:
        if recorder.needs_entry():
            with transaction.atomic():
                if isinstance(exc, OutcomeUnknownError):
                    recorder.unknown(exc.message, code=exc.code)
                else:
                    recorder.failed(exc.message, code=exc.code)
        raise
    except Exception as exc:
        if recorder.needs_entry():
            with transaction.atomic():
                recorder.failed(f"Unexpected error: {type(exc).__name__}")
        raise
    else:
        if recorder.needs_entry():
            with transaction.atomic():
                recorder.succeeded()


#: Faults after which a write may or may not have been applied (settled by accounts.settling).
UNKNOWN_FAULTS = (api.OutcomeUnknown, api.Timeout, api.ServerError, api.MalformedResponse)

#: Portal actions that are not one op.
ACCOUNTIMPORT = "accountimport"  # link an account that already exists on the server
CREDITTRANSFER = "credittransfer"  # deduct from one account, add to another
PORTALINVITE = "portalinvite"  # invite a person to log in to the portal for an account
ACCOUNTTHRESHOLD = "accountthreshold"  # the low-balance warning threshold of an account
CREDITSETTLE = "creditsettle"  # settle by hand a credit transfer that needs attention
AUTHRETRY = "authretry"  # probe now credentials the auth guard holds back

#: What people read for an action: the client's op labels, plus the portal's own actions.
ACTION_LABELS = {
    **{str(op): spec.label for op, spec in api.OPS.items()},
    ACCOUNTIMPORT: "Import account",
    CREDITTRANSFER: "Transfer credit",
    PORTALINVITE: "Invite a portal user",
    ACCOUNTTHRESHOLD: "Set low-balance threshold",
    CREDITSETTLE: "Settle a transfer by hand",
    AUTHRETRY: "Try refused credentials again",
    "resolve": "Settle a send by hand",
    "resend": "Send again",
    "send_pause": "Pause a send",
    "send_resume": "Resume a send",
    "send_cancel": "Cancel a send",
    "zonerecord": "Record the time zone",
    "password_change": "Change password",
    "password_reset": "Reset password",
}
#: the second part of a dotted action (``credittransfer.done``, ``portalinvite.resend``)
_STEP_LABELS = {"resend": "sent again", "revoke": "revoked", "accept": "accepted"}


def action_label(action: str) -> str:
    """Words for an audit action; a dotted one reads ``Transfer credit: done``; an action this
    table does not know reads as its words (``some_thing`` → ``Some thing``)."""
    base, _, step = (action or "").partition(".")
    label = ACTION_LABELS.get(base) or base.replace("_", " ").capitalize()
    if step:
        label += ": " + _STEP_LABELS.get(step, step.replace("_", " "))
    return label


def _is_write(action: str) -> bool:
    return action not in api.READ_OPS


# --- refusals ----------------------------------------------------------------------------------

#: For the service call in progress: the ``audited`` blocks it opened (None outside a service).
_service_call: ContextVar[list[str] | None] = ContextVar("accounts_service_call", default=None)

#: Service keyword arguments worth keeping in a refusal entry (never passwords or tokens).
_SAFE_PARAMS = ("level", "parent", "source", "target", "amount", "reason", "number", "sender")


def _safe_params(kwargs: dict[str, Any]) -> dict[str, str]:
    params = {}
    for name in _SAFE_PARAMS:
        value = kwargs.get(name)
        if value is None or value == "":
            continue
        params[name] = str(getattr(value, "username", value))[:100]
    return params


def record_refusal(
    *,
    actor,
    action: str,
    target: BearSMSAccount | None = None,
    target_username: str = "",
    exc: Exception,
    params: dict[str, Any] | None = None,
) -> AuditEntry:
    """Write the "refused" entry of an attempt stopped before the server was asked."""
    recorder = AuditRecorder(
        actor=actor, action=action, target=target, target_username=target_username, params=params
    )
    if isinstance(exc, PermissionDenied):
        who = actor.get_username() if getattr(actor, "pk", None) else "this user"
        on = f" on “{recorder.target_username}”" if recorder.target_username else ""
        message, code = f"Refused: {who} is not allowed to run {action}{on}.", None
        recorder.note("refused: permission denied")
    else:
        message, code = f"Refused: {exc.message}", exc.code
        recorder.note(f"refused: input ({exc.field})" if exc.field else "refused: input")
    with transaction.atomic():
        entry = recorder.failed(message, code=code, outcome=AuditEntry.Outcome.REFUSED)
    log.info("%s on %s refused", action, recorder.target_username or "-")
    return entry


def audits_refusals(action: str):
    """Decorate a service so a refusal before its ``audited`` block still leaves an entry.

    The target is the service's ``account`` (or ``target``) argument, else its ``username``.
    Refusals raised inside an ``audited`` block are recorded there, as before.
    """

    def decorator(service):
        @functools.wraps(service)
        def wrapper(*, actor, **kwargs):
            opened: list[str] = []
            token = _service_call.set(opened)
            try:
                return service(actor=actor, **kwargs)
            except (PermissionDenied, ServiceError) as exc:
                if not opened:
                    target = kwargs.get("account") or kwargs.get("target")
                    record_refusal(
                        actor=actor,
                        action=action,
                        target=target,
                        target_username=str(kwargs.get("username") or "").strip(),
                        exc=exc,
                        params=_safe_params(kwargs),
                    )
                raise
            finally:
                _service_call.reset(token)

        wrapper.audited_action = action
        return wrapper

    return decorator
