"""Bulk sends from a file: upload, column mapping, the check of every row, then the send.

1. :func:`recipient_file_upload` stores the upload under ``MEDIA_ROOT/uploads/`` in chunks
   (never the whole file in memory) and reads its first rows to guess the header and the
   number column.
2. :func:`recipient_file_map` records which column is the number, the message text (with
   ``{field}`` placeholders naming the other columns) and the send options, then has a worker
   check the file.
3. :func:`recipient_file_check` (the task's body) reads the file once, as a stream, and writes
   one :class:`~messaging.models.RecipientRow` per data row — the recipient with its filled-in
   text, or the reason it is refused — ``BULK_CHUNK`` rows per transaction, with the progress.
   Numbers are read by the sending code's own rule (:func:`messaging.recipients.read_number`
   in the account's region) and checked against the portal's stoplist records.
4. :func:`bulk_send_start` turns the good rows into a :class:`~messaging.models.Send` and its
   destinations with one ``INSERT … SELECT`` (no row passes through Python), audits it once and
   queues the submission (:mod:`messaging.services.sending`: claimed, exactly once).
5. :func:`send_pause`, :func:`send_resume` and :func:`send_cancel` steer any send while it is
   being submitted; cancel turns every destination not yet claimed into ``cancelled``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.audit import audited, audits_refusals
from accounts.errors import ServiceError
from accounts.idempotency import once_per_key
from accounts.models import BearSMSAccount
from accounts.permissions import ensure_can
from accounts.selectors import stoplisted_numbers

from .. import bulkfile
from .. import recipients as rcpt
from ..models import RecipientFile, RecipientRow, Send, SendDestination
from ..segments import UCS2, count_segments, with_footer
from . import enqueue
from .sending import (
    RUNNING,
    audit_send,
    check_schedule,
    credit_shortfall,
    ensure_can_send,
    footer_of,
    start_send,
)


def upload_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def stored_path(recipient_file: RecipientFile) -> Path:
    return upload_dir() / Path(recipient_file.stored_name).name


# --- upload and mapping ----------------------------------------------------------------------


@once_per_key("bulk_upload")
def recipient_file_upload(*, actor, account: BearSMSAccount, upload) -> RecipientFile:
    """Store an uploaded CSV/XLSX (a Django ``UploadedFile``) and read its first rows."""
    ensure_can_send(actor, account)
    try:
        fmt = bulkfile.file_format(upload.name)
    except bulkfile.FileProblem as exc:
        raise ServiceError(str(exc), field="file") from exc
    if upload.size > settings.BULK_UPLOAD_MAX_BYTES:
        limit = settings.BULK_UPLOAD_MAX_BYTES // 1_000_000
        raise ServiceError(f"The file is larger than {limit} MB.", field="file")
    stored_name = f"{uuid.uuid4().hex}.{fmt}"
    path = upload_dir() / stored_name
    with open(path, "wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    try:
        sample = bulkfile.sample(path, fmt)
    except bulkfile.FileProblem as exc:
        path.unlink(missing_ok=True)
        raise ServiceError(str(exc), field="file") from exc
    return RecipientFile.objects.create(
        user=actor,
        account=account,
        name=Path(upload.name).name[:200],
        stored_name=stored_name,
        format=fmt,
        size=path.stat().st_size,
        header=sample.header,
        number_column=sample.number_column,
        columns=sample.columns(),
    )


def recipient_file_sample(recipient_file: RecipientFile) -> bulkfile.Sample:
    """The first rows of the stored file, for the mapping step."""
    return bulkfile.sample(stored_path(recipient_file), recipient_file.format)


def recipient_file_map(
    *,
    actor,
    recipient_file: RecipientFile,
    header: bool,
    number_column: int,
    text: str,
    sender: str = "",
    footer: bool = True,
    flash: bool = False,
) -> RecipientFile:
    """Record the mapping and have a worker check every row (the page shows its progress)."""
    ensure_can_send(actor, recipient_file.account)
    if recipient_file.send_id:
        raise ServiceError("This file has already been sent.")
    columns = recipient_file_sample(recipient_file).columns(header)
    if not 0 <= number_column < len(columns):
        raise ServiceError("Choose one of the file's columns.", field="number_column")
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise ServiceError("Enter the message.", field="text")
    unknown = bulkfile.unknown_fields(text, columns)
    if unknown:
        raise ServiceError(
            f"No column is called {{{unknown[0]}}}; use one of the fields listed.", field="text"
        )
    options = {"sender": (sender or "").strip(), "footer": bool(footer), "flash": bool(flash)}
    with transaction.atomic():
        RecipientFile.objects.filter(pk=recipient_file.pk).update(
            header=header,
            number_column=number_column,
            columns=columns,
            text=text,
            options=options,
            state=RecipientFile.State.CHECKING,
            rows_read=0,
            rows_good=0,
            rows_bad=0,
            rows_duplicate=0,
            segments_total=0,
            segments_max=0,
            unicode=False,
            error="",
            checked_at=None,
            revision=F("revision") + 1,
        )
        recipient_file.refresh_from_db()
        file_id = recipient_file.pk
        transaction.on_commit(lambda: enqueue("messaging.check_recipient_file", file_id))
    return recipient_file


# --- the check -------------------------------------------------------------------------------


class _Superseded(Exception):
    """The file was mapped again while this check ran: a newer check owns its rows."""


def _hold(recipient_file: RecipientFile) -> None:
    """Lock the file's row for this transaction; raise if its mapping changed meanwhile."""
    current = (
        RecipientFile.objects.select_for_update()
        .filter(pk=recipient_file.pk, state=RecipientFile.State.CHECKING)
        .values_list("revision", flat=True)
        .first()
    )
    if current != recipient_file.revision:
        raise _Superseded


class _Check:
    """Running totals of a check, written with each chunk of rows (each chunk in one
    transaction that first makes sure the check is still the file's current one)."""

    def __init__(self, recipient_file: RecipientFile):
        self.file = recipient_file
        self.footer = footer_of(recipient_file.account, recipient_file.options.get("footer", True))
        self.read = self.good = self.bad = self.duplicate = 0
        self.segments_total = self.segments_max = 0
        self.unicode = False
        self.chunk: list[bulkfile.Recipient | bulkfile.BadRow] = []

    def add(self, result) -> None:
        self.chunk.append(result)
        if len(self.chunk) >= settings.BULK_CHUNK:
            self.flush()

    def flush(self) -> None:
        numbers = [r.number for r in self.chunk if isinstance(r, bulkfile.Recipient)]
        stopped = stoplisted_numbers(numbers) if numbers else set()
        rows = []
        for result in self.chunk:
            self.read += 1
            if isinstance(result, bulkfile.Recipient) and result.number in stopped:
                result = bulkfile.BadRow(result.row, result.number, "On the stoplist.")
            rows.append(self._row(result))
        with transaction.atomic():
            _hold(self.file)
            RecipientRow.objects.bulk_create(rows)
            RecipientFile.objects.filter(pk=self.file.pk).update(**self.totals())
        self.chunk.clear()

    def _row(self, result) -> RecipientRow:
        if isinstance(result, bulkfile.BadRow):
            self.bad += 1
            self.duplicate += result.reason.startswith("Duplicate")
            return RecipientRow(
                file_id=self.file.pk,
                row=result.row,
                value=result.value[:100],
                reason=result.reason[:200],
            )
        self.good += 1
        count = count_segments(with_footer(result.text, self.footer))
        self.segments_total += count.segments
        self.segments_max = max(self.segments_max, count.segments)
        self.unicode = self.unicode or count.encoding == UCS2
        return RecipientRow(
            file_id=self.file.pk,
            row=result.row,
            number=result.number,
            value=result.number,
            text=result.text,
        )

    def totals(self) -> dict:
        return {
            "rows_read": self.read,
            "rows_good": self.good,
            "rows_bad": self.bad,
            "rows_duplicate": self.duplicate,
            "segments_total": self.segments_total,
            "segments_max": self.segments_max,
            "unicode": self.unicode,
        }


def _mapping(recipient_file: RecipientFile) -> bulkfile.Mapping:
    region = rcpt.region_for(recipient_file.account)
    return bulkfile.Mapping(
        header=recipient_file.header,
        number_column=recipient_file.number_column,
        text=recipient_file.text,
        # spreadsheet cells often hold "+1 415 555 0123": spaces are formatting here
        read_number=lambda raw: rcpt.read_number("".join(raw.split()), region),
    )


def recipient_file_check(*, file_id: int) -> str:
    """Check every row of the file and store the outcome; safe to run again (starts over).

    A check whose file is mapped again meanwhile stops at its next chunk ("superseded"): the
    check queued by the new mapping starts over and owns the rows.
    """
    recipient_file = RecipientFile.objects.select_related("account").filter(pk=file_id).first()
    if recipient_file is None or recipient_file.state != RecipientFile.State.CHECKING:
        return "nothing to check"
    mine = {
        "pk": file_id,
        "state": RecipientFile.State.CHECKING,
        "revision": recipient_file.revision,
    }
    try:
        with transaction.atomic():
            _hold(recipient_file)
            RecipientRow.objects.filter(file_id=file_id).delete()
        check = _Check(recipient_file)
        rows = bulkfile.read_rows(stored_path(recipient_file), recipient_file.format)
        for result in bulkfile.check_rows(rows, _mapping(recipient_file)):
            check.add(result)
        check.flush()
    except _Superseded:
        return "superseded"
    except bulkfile.FileProblem as exc:
        RecipientFile.objects.filter(**mine).update(
            state=RecipientFile.State.FAILED, error=str(exc)[:300]
        )
        return "unreadable"
    RecipientFile.objects.filter(**mine).update(
        state=RecipientFile.State.CHECKED, checked_at=timezone.now()
    )
    return "checked"


def bad_rows(recipient_file: RecipientFile):
    return recipient_file.rows.exclude(reason="").order_by("row")


def good_rows(recipient_file: RecipientFile):
    return recipient_file.rows.filter(reason="").order_by("row")


BAD_ROWS_HEADER = ("Row", "Value", "Reason")


def bad_rows_report(recipient_file: RecipientFile) -> Iterator[tuple]:
    """(row, value, reason) of every refused row, in file order, read in chunks."""
    yield BAD_ROWS_HEADER
    yield from (
        bad_rows(recipient_file)
        .values_list("row", "value", "reason")
        .iterator(chunk_size=settings.BULK_CHUNK)
    )


# --- the send --------------------------------------------------------------------------------


def _copy_destinations(recipient_file: RecipientFile, send: Send) -> int:
    """INSERT the file's good rows as the send's destinations, in the database alone."""
    personal = bool(bulkfile.placeholders(recipient_file.text))
    values = {
        "send": ("%s", send.pk),
        "position": ("r.row", None),
        "kind": ("%s", SendDestination.Kind.NUMBER),
        "address": ("r.number", None),
        "entered": ("r.value", None),
        "text": ("r.text" if personal else "%s", None if personal else ""),
        "state": ("%s", SendDestination.State.QUEUED),
    }
    columns, selects, params = [], [], []
    for field in SendDestination._meta.concrete_fields:
        if field.primary_key or (field.name not in values and field.null):
            continue
        expression, param = values.get(field.name, ("%s", field.get_default()))
        columns.append(connection.ops.quote_name(field.column))
        selects.append(expression)
        if expression == "%s":
            params.append(param)
    sql = (
        f"INSERT INTO {SendDestination._meta.db_table} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(selects)} FROM {RecipientRow._meta.db_table} r "
        "WHERE r.file_id = %s AND r.reason = '' ORDER BY r.row"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, recipient_file.pk])
        return cursor.rowcount


@once_per_key("bulk_send")
@audits_refusals("pv")
def bulk_send_start(
    *,
    actor,
    recipient_file: RecipientFile,
    scheduled_for: datetime | None = None,
    scheduled_zone: str = "",
    confirmed: bool = False,
) -> Send:
    """Send the checked file's good rows: one send, one destination per row, audited once.

    The credit pre-check counts every good row's segments (its own text, footer included);
    an operator may send anyway (``confirmed``) when the known balance looks short.

    ``scheduled_for``: every message goes to the server at once with ``schedule`` (as a
    single scheduled send does), and the server holds it until then.

    Exactly one send per file, however often the button is pressed: the form's one-time key
    replays the first answer, and the file is claimed (``checked`` → ``sending``) in the same
    transaction that writes the send.
    """
    account = recipient_file.account
    ensure_can_send(actor, account)
    if recipient_file.state != RecipientFile.State.CHECKED or recipient_file.send_id:
        raise ServiceError("This file is not ready to send (already sent, or not checked).")
    if not recipient_file.rows_good:
        raise ServiceError("No row of this file can be sent.")
    check_schedule(scheduled_for)
    shortfall = credit_shortfall(actor, account, segments=recipient_file.segments_total)
    if shortfall and not confirmed:
        raise ServiceError(shortfall + " Tick “send anyway” if you know the balance is enough.")
    options = recipient_file.options
    with transaction.atomic():
        claimed = RecipientFile.objects.filter(
            pk=recipient_file.pk, state=RecipientFile.State.CHECKED, send__isnull=True
        ).update(state=RecipientFile.State.SENDING)
        if not claimed:
            raise ServiceError("This file is already being sent.")
        send = Send.objects.create(
            account=account,
            created_by=actor,
            created_by_username=actor.get_username(),
            source=Send.Source.FILE,
            state=Send.State.QUEUED,
            text=recipient_file.text,
            sender=options.get("sender", "")[:16],
            footer=options.get("footer", True),
            message_type=Send.MessageType.FLASH if options.get("flash") else Send.MessageType.TEXT,
            encoding=Send.Encoding.UCS2 if recipient_file.unicode else Send.Encoding.GSM7,
            segments=recipient_file.segments_max,
            scheduled_for=scheduled_for,
            scheduled_zone=scheduled_zone if scheduled_for else "",
            entries_total=recipient_file.rows_read,
            duplicates_dropped=recipient_file.rows_duplicate,
            invalid_entries=recipient_file.rows_bad - recipient_file.rows_duplicate,
            destinations_total=recipient_file.rows_good,
            concurrency=settings.SEND_CONCURRENCY,
            source_name=recipient_file.name,
            mapping={
                "file": recipient_file.pk,
                "header": recipient_file.header,
                "number_column": recipient_file.columns[recipient_file.number_column],
                "fields": bulkfile.placeholders(recipient_file.text),
            },
        )
        send.source_file.name = f"uploads/{recipient_file.stored_name}"
        send.save(update_fields=["source_file"])
        _copy_destinations(recipient_file, send)
        RecipientFile.objects.filter(pk=recipient_file.pk).update(send=send)
        audit_send(actor, send)
        start_send(send)
    recipient_file.refresh_from_db()
    return send


# --- steering a send -------------------------------------------------------------------------


@audits_refusals("send_pause")
def send_pause(*, actor, send: Send) -> Send:
    """Stop claiming destinations from this commit on; requests already in flight finish
    and are recorded (claims and this UPDATE take turns on the send's row, see
    :func:`messaging.services.sending.claim_block`)."""
    ensure_can(actor, "pv", send.account)
    with (
        audited(actor=actor, action="send_pause", target=send.account, params={"send": send.pk}),
        transaction.atomic(),
    ):
        if not Send.objects.filter(pk=send.pk, state__in=RUNNING).update(state=Send.State.PAUSED):
            raise ServiceError("Only a send that is being submitted can be paused.")
    send.refresh_from_db()
    return send


@audits_refusals("send_resume")
def send_resume(*, actor, send: Send) -> Send:
    """Go on where the send stopped: queued destinations are claimed again."""
    ensure_can_send(actor, send.account)
    with (
        audited(actor=actor, action="send_resume", target=send.account, params={"send": send.pk}),
        transaction.atomic(),
    ):
        if not Send.objects.filter(pk=send.pk, state=Send.State.PAUSED).update(
            state=Send.State.SENDING, progress_at=timezone.now()
        ):
            raise ServiceError("Only a paused send can be resumed.")
        start_send(send)
    send.refresh_from_db()
    return send


@audits_refusals("send_cancel")
def send_cancel(*, actor, send: Send) -> Send:
    """Never submit what has not been submitted: queued destinations become cancelled.

    A destination already claimed (its request in flight) finishes and is recorded.
    """
    ensure_can(actor, "pv", send.account)
    with (
        audited(
            actor=actor, action="send_cancel", target=send.account, params={"send": send.pk}
        ) as audit,
        transaction.atomic(),
    ):
        if not Send.objects.filter(pk=send.pk, state__in=(*RUNNING, Send.State.PAUSED)).update(
            state=Send.State.CANCELLED, finished_at=timezone.now()
        ):
            raise ServiceError("This send has finished: nothing is left to cancel.")
        cancelled = SendDestination.objects.filter(
            send_id=send.pk, state=SendDestination.State.QUEUED
        ).update(state=SendDestination.State.CANCELLED, finished_at=timezone.now())
        audit.note(f"{cancelled} destination(s) cancelled before submission")
    send.refresh_from_db()
    return send


# --- progress --------------------------------------------------------------------------------

RATE_WINDOW = timedelta(seconds=30)


def send_progress(send: Send, summary: dict[str, int], *, now=None) -> dict:
    """Done / refused / unknown / pending, the rate over the last half minute and the ETA.

    ``summary`` is :func:`messaging.selectors.send_summary` (one grouped count); the rate is
    one more count over the destinations finished in the window.
    """
    now = now or timezone.now()
    State = SendDestination.State
    pending = summary[State.QUEUED] + summary[State.SENDING]
    finished = summary["total"] - pending - summary[State.CANCELLED]
    rate = 0.0
    started = send.started_at
    if send.state == Send.State.SENDING and started:
        since = max(started, now - RATE_WINDOW)
        recent = SendDestination.objects.filter(send_id=send.pk, finished_at__gte=since).count()
        seconds = max((now - since).total_seconds(), 1.0)
        rate = recent / seconds
    elif finished and started and send.finished_at:
        rate = finished / max((send.finished_at - started).total_seconds(), 1.0)
    eta = int(pending / rate) if rate and pending and send.state == Send.State.SENDING else None
    total = summary["total"] or 1
    return {
        "state": send.state,
        "state_label": send.get_state_display(),
        "total": summary["total"],
        "done": summary[State.SUBMITTED],
        "refused": summary[State.REFUSED],
        "unknown": summary[State.UNKNOWN],
        "pending": pending,
        "in_flight": summary[State.SENDING],
        "cancelled": summary[State.CANCELLED],
        "percent": round(100 * (finished + summary[State.CANCELLED]) / total, 1),
        "rate": round(rate, 1),
        "eta_seconds": eta,
    }
