"""One-time form keys: a form that writes to BearSMS is applied once, however often it is sent.

A double click, the browser's back-and-resubmit or two tabs posting at once must not add credit
twice or create an account twice. Disabling the button (``static/portal/once.js``) is only a
courtesy; the protection is here, and it is the **only** place for it — credit transfers and
sends use it too. Do not write another.

How it works
------------
1. The form carries a hidden ``form_key`` (a random UUID) generated when the page is rendered:
   inherit :class:`OneTimeKeyMixin` (or use :class:`OneTimeKeyForm` for a bare confirmation).
   After a valid POST, ``form.form_key`` holds the key (it is not in ``cleaned_data``).
2. The service is decorated with :func:`once_per_key`, outermost::

       @once_per_key("creditadd")
       @audits_refusals("creditadd")
       def credit_add(*, actor, account, amount, reason): ...

   and the view passes the key: ``services.credit_add(actor=..., form_key=form.form_key, ...)``.
   Without ``form_key`` (commands, tasks, tests) the service runs as before.
3. The first call with a key inserts a :class:`~accounts.models.FormSubmission` row (unique on
   the key, committed at once) **before** the service asks the server, and the service's audit
   entry (written before the first API call, see ``accounts.audit``) names the key. When the
   service ends, the row keeps its outcome: the result (a reference: model rows are stored as
   app/model/pk and read again) or the error it raised.
4. Any later call with the same key never calls the service: it returns the stored result or
   raises the stored error again. A call arriving while the first is still running (two POSTs at
   once) waits for it (up to ``FORM_KEY_WAIT`` seconds) and then does the same; the unique key
   makes the race safe on every database (the loser's INSERT fails).
5. An outcome that is not known (:class:`~accounts.errors.OutcomeUnknownError`) is replayed as
   unknown until ``accounts.settling`` has settled the audit entry; the replay then reports the
   settled outcome.

6. A call refused before any API call (permission, input, an overdraft that needs the
   operator's confirmation) does not use the key up: nothing reached the server, and the same
   form, corrected or confirmed, may be sent again.

The key belongs to the user who first sent it: another user's key is refused. A form shown
again after a failure gets a new key (:meth:`OneTimeKeyMixin.renew_key`), so a corrected form
is a new attempt while a resent old page still gets the first answer.

Sagas that keep their own row per attempt (credit transfers, sends) store the same ``form_key``
in that row instead of using the decorator: their models inherit
:class:`accounts.models.FormKeyed` (the key, unique, and the find-or-create-once rule). The
form side is this module either way.
"""

from __future__ import annotations

import functools
import time
import uuid
from contextvars import ContextVar
from decimal import Decimal
from typing import Any

from django import forms
from django.apps import apps
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from .errors import OutcomeUnknownError, ServiceError
from .models import AuditEntry, FormSubmission

State = FormSubmission.State

FIELD_NAME = "form_key"

#: The submission of the service call in progress (read by ``accounts.audit`` to name the key).
current_submission: ContextVar[FormSubmission | None] = ContextVar(
    "accounts_form_submission", default=None
)


# --- forms ---------------------------------------------------------------------------------------


def new_key() -> str:
    return str(uuid.uuid4())


class OneTimeKeyMixin:
    """Adds the hidden one-time ``form_key`` field, generated when an unbound form is made."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[FIELD_NAME] = forms.UUIDField(widget=forms.HiddenInput, required=False)
        if not self.is_bound:
            self.initial[FIELD_NAME] = new_key()
        self.form_key: str | None = None

    def clean(self):
        cleaned = super().clean()
        key = cleaned.pop(FIELD_NAME, None)
        if not key:  # a page from before keys, or a hand-made POST: show it again with one
            self.renew_key()
            raise forms.ValidationError(
                "This page was out of date: check the values and send the form again."
            )
        self.form_key = str(key)
        return cleaned

    def renew_key(self) -> None:
        """Give a bound form a fresh key before it is shown again (after a failure)."""
        if self.is_bound:
            self.data = self.data.copy()
            self.data[self.add_prefix(FIELD_NAME)] = new_key()


class OneTimeKeyForm(OneTimeKeyMixin, forms.Form):
    """A form with nothing but the key (confirmation pages, one-click buttons)."""


# --- results -------------------------------------------------------------------------------------


def _pack(value) -> dict[str, Any]:
    if value is None:
        return {"kind": "none"}
    if isinstance(value, models.Model):
        return {"kind": "model", "model": value._meta.label, "pk": value.pk}
    if isinstance(value, tuple | list):
        return {"kind": "tuple", "items": [_pack(item) for item in value]}
    if isinstance(value, Decimal):
        return {"kind": "decimal", "value": str(value)}
    if isinstance(value, str | int | float | bool):
        return {"kind": "value", "value": value}
    raise TypeError(f"once_per_key cannot keep a {type(value).__name__} result")


def _unpack(packed: dict[str, Any]):
    kind = packed.get("kind")
    if kind == "model":
        model = apps.get_model(packed["model"])
        try:
            return model.objects.get(pk=packed["pk"])
        except model.DoesNotExist:
            raise ServiceError(
                "This form was already sent and done; what it made no longer exists."
            ) from None
    if kind == "tuple":
        return tuple(_unpack(item) for item in packed["items"])
    if kind == "decimal":
        return Decimal(packed["value"])
    if kind == "value":
        return packed["value"]
    return None


def _pack_error(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, PermissionDenied):
        return {"error": "permission"}
    if isinstance(exc, ServiceError):
        return {
            "error": "unknown" if isinstance(exc, OutcomeUnknownError) else "service",
            "message": exc.message,
            "field": exc.field,
            "code": exc.code,
        }
    return {"error": "service", "message": f"Unexpected error: {type(exc).__name__}"}


def _raise(packed: dict[str, Any]):
    if packed.get("error") == "permission":
        raise PermissionDenied
    error_class = OutcomeUnknownError if packed.get("error") == "unknown" else ServiceError
    raise error_class(packed["message"], field=packed.get("field"), code=packed.get("code"))


# --- the decorator -------------------------------------------------------------------------------

STILL_RUNNING = (
    "This form was already sent and is still being processed: reload the page in a moment "
    "instead of sending it again."
)


def _claim(key: str, *, actor, action: str) -> tuple[FormSubmission, bool]:
    """Insert the key's row (committed at once), or find the one another request inserted."""
    try:
        uuid.UUID(str(key))
    except ValueError:
        raise ServiceError("This form has expired: open it again.") from None
    actor_id = actor.pk if getattr(actor, "pk", None) else None
    try:
        with transaction.atomic():
            return FormSubmission.objects.create(key=key, action=action, actor_id=actor_id), True
    except IntegrityError:
        pass
    submission = FormSubmission.objects.get(key=key)
    if submission.actor_id != actor_id:
        raise PermissionDenied("This form key belongs to someone else.")
    if submission.action != action:
        raise ServiceError("This form was already used for something else: open it again.")
    return submission, False


def _finish(submission: FormSubmission, state: str, result: dict[str, Any]) -> None:
    submission.state, submission.result = state, result
    submission.finished_at = timezone.now()
    entry = current_audit_entry(submission)
    FormSubmission.objects.filter(pk=submission.pk).update(
        state=state, result=result, finished_at=submission.finished_at, audit_entry=entry
    )


def current_audit_entry(submission: FormSubmission) -> AuditEntry | None:
    """The latest audit entry that names this submission's key (written by accounts.audit)."""
    return AuditEntry.objects.filter(details__form_key=str(submission.key)).order_by("-id").first()


def _server_was_asked(submission: FormSubmission) -> bool:
    """True once an ``audited`` block (which opens before the first API call) ran for it."""
    return (
        AuditEntry.objects.filter(details__form_key=str(submission.key))
        .exclude(outcome=AuditEntry.Outcome.REFUSED)
        .exists()
    )


def _wait(submission: FormSubmission) -> FormSubmission:
    deadline = time.monotonic() + float(getattr(settings, "FORM_KEY_WAIT", 30))
    while submission.state == State.RUNNING and time.monotonic() < deadline:
        time.sleep(0.1)
        submission.refresh_from_db()
    return submission


def _replay(submission: FormSubmission):
    submission = _wait(submission)
    if submission.state == State.RUNNING:
        raise ServiceError(STILL_RUNNING)
    if submission.state == State.UNKNOWN:
        settled = settled_state(submission)
        if settled is not None:
            submission = settled
    if submission.state == State.DONE:
        return _unpack(submission.result)
    _raise(submission.result)


def settled_state(submission: FormSubmission) -> FormSubmission | None:
    """After ``accounts.settling`` settled the audit entry of an unknown submission, the
    submission follows it (done or failed); None while it is still unknown."""
    entry = submission.audit_entry or current_audit_entry(submission)
    if entry is None or entry.outcome in (AuditEntry.Outcome.UNKNOWN, AuditEntry.Outcome.PENDING):
        return None
    if entry.outcome == AuditEntry.Outcome.SUCCESS:
        state = State.DONE
        result = dict(submission.result.get("settled_result") or {"kind": "none"})
    else:
        state = State.FAILED
        result = {"error": "service", "message": entry.message, "code": entry.error_code}
    _finish(submission, state, result)
    return submission


def once_per_key(action: str):
    """Decorate a service so calls carrying the same ``form_key`` run it once (module doc)."""

    def decorator(service):
        @functools.wraps(service)
        def wrapper(*, actor, form_key: str | None = None, **kwargs):
            if not form_key:
                return service(actor=actor, **kwargs)
            submission, first = _claim(form_key, actor=actor, action=action)
            if not first:
                try:
                    return _replay(submission)
                except FormSubmission.DoesNotExist:  # the first was refused: try it ourselves
                    return wrapper(actor=actor, form_key=form_key, **kwargs)
            token = current_submission.set(submission)
            try:
                result = service(actor=actor, **kwargs)
            except OutcomeUnknownError as exc:
                _finish(submission, State.UNKNOWN, _pack_error(exc))
                raise
            except (ServiceError, PermissionDenied) as exc:
                if _server_was_asked(submission):
                    _finish(submission, State.FAILED, _pack_error(exc))
                else:  # refused before any API call: the key stays usable (section 6)
                    FormSubmission.objects.filter(pk=submission.pk).delete()
                raise
            except BaseException as exc:
                _finish(submission, State.FAILED, _pack_error(exc))
                raise
            else:
                _finish(submission, State.DONE, _pack(result))
                return result
            finally:
                current_submission.reset(token)

        wrapper.once_per_key = action
        return wrapper

    return decorator
