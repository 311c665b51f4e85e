"""Bulk sends from a file: upload, column mapping, the check of every row, then the send.

1. :func:`recipient_file_upload` stores the upload under ``MEDIA_ROOT/uploads/`` in chunks
   (never the whole file in memory) and reads its first rows to guess the header and the
   number column.
2. :func:`recipient_file_map` records which column is the number and the message text (with
   ``{field}`` placeholders naming the other columns), then has a worker check the file.
3. :func:`recipient_file_check` (the task's body) reads the file once, as a stream, and writes
   one :class:`~messaging.models.RecipientRow` per data row — the recipient with its filled-in
   text, or the reason it is refused — ``BULK_CHUNK`` rows per transaction, with the progress.
   The preview, the bad-row report and the send read that table.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import BearSMSAccount
from accounts.selectors import accounts_visible_to

from .. import bulkfile
from ..models import RecipientFile, RecipientRow
from . import enqueue


def upload_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def stored_path(recipient_file: RecipientFile) -> Path:
    return upload_dir() / Path(recipient_file.stored_name).name


def ensure_can_send_as(actor, account: BearSMSAccount) -> None:
    """The sender must see the account, and the account must be linked and not banned."""
    if not accounts_visible_to(actor).filter(pk=account.pk).exists():
        raise PermissionDenied("Not allowed: send as this account")
    if not account.token_encrypted:
        raise ValidationError("The account is not linked: link it before sending as it.")
    if account.status == BearSMSAccount.Status.BANNED:
        raise ValidationError("The account is banned on BearSMS: unban it before sending.")


def recipient_file_upload(*, actor, account: BearSMSAccount, upload) -> RecipientFile:
    """Store an uploaded CSV/XLSX (a Django ``UploadedFile``) and read its first rows."""
    ensure_can_send_as(actor, account)
    try:
        fmt = bulkfile.file_format(upload.name)
    except bulkfile.FileProblem as exc:
        raise ValidationError(str(exc)) from exc
    if upload.size > settings.BULK_UPLOAD_MAX_BYTES:
        raise ValidationError(
            f"The file is larger than {settings.BULK_UPLOAD_MAX_BYTES // 1_000_000} MB."
        )
    stored_name = f"{uuid.uuid4().hex}.{fmt}"
    path = upload_dir() / stored_name
    with open(path, "wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    try:
        sample = bulkfile.sample(path, fmt)
    except bulkfile.FileProblem as exc:
        path.unlink(missing_ok=True)
        raise ValidationError(str(exc)) from exc
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
    options: dict | None = None,
) -> RecipientFile:
    """Record the mapping and have a worker check every row (the page shows its progress)."""
    ensure_can_send_as(actor, recipient_file.account)
    if recipient_file.state == RecipientFile.State.SENDING:
        raise ValidationError("This file is already being sent.")
    sample = recipient_file_sample(recipient_file)
    columns = sample.columns(header)
    if not 0 <= number_column < len(columns):
        raise ValidationError({"number_column": "Choose one of the file's columns."})
    if not text.strip():
        raise ValidationError({"text": "Write the message."})
    unknown = bulkfile.unknown_fields(text, columns)
    if unknown:
        raise ValidationError(
            {"text": f"No column is called {{{unknown[0]}}}; use one of the fields listed."}
        )
    with transaction.atomic():
        RecipientFile.objects.filter(pk=recipient_file.pk).update(
            header=header,
            number_column=number_column,
            columns=columns,
            text=text,
            options=options or {},
            state=RecipientFile.State.CHECKING,
            rows_read=0,
            rows_good=0,
            rows_bad=0,
            error="",
            checked_at=None,
        )
        recipient_file.refresh_from_db()
        transaction.on_commit(lambda: enqueue("messaging.check_recipient_file", recipient_file.pk))
    return recipient_file


def _mapping(recipient_file: RecipientFile) -> bulkfile.Mapping:
    return bulkfile.Mapping(
        header=recipient_file.header,
        number_column=recipient_file.number_column,
        text=recipient_file.text,
    )


def _as_row(file_id: int, result) -> RecipientRow:
    if isinstance(result, bulkfile.Recipient):
        return RecipientRow(
            file_id=file_id,
            row=result.row,
            number=result.number,
            value=result.number,
            text=result.text,
        )
    return RecipientRow(
        file_id=file_id, row=result.row, value=result.value[:100], reason=result.reason[:200]
    )


def recipient_file_check(*, file_id: int) -> None:
    """Check every row of the file and store the outcome; safe to run again (starts over)."""
    recipient_file = RecipientFile.objects.filter(pk=file_id).first()
    if recipient_file is None or recipient_file.state != RecipientFile.State.CHECKING:
        return
    RecipientRow.objects.filter(file_id=file_id).delete()
    read = good = bad = 0
    chunk: list[RecipientRow] = []

    def flush() -> None:
        with transaction.atomic():
            RecipientRow.objects.bulk_create(chunk)
            RecipientFile.objects.filter(pk=file_id).update(
                rows_read=read, rows_good=good, rows_bad=bad
            )
        chunk.clear()

    rows = bulkfile.read_rows(stored_path(recipient_file), recipient_file.format)
    try:
        for result in bulkfile.check_rows(rows, _mapping(recipient_file)):
            read += 1
            if isinstance(result, bulkfile.Recipient):
                good += 1
            else:
                bad += 1
            chunk.append(_as_row(file_id, result))
            if len(chunk) >= settings.BULK_CHUNK:
                flush()
        flush()
    except bulkfile.FileProblem as exc:
        RecipientFile.objects.filter(pk=file_id).update(
            state=RecipientFile.State.FAILED, error=str(exc)[:300]
        )
        return
    RecipientFile.objects.filter(pk=file_id, state=RecipientFile.State.CHECKING).update(
        state=RecipientFile.State.CHECKED, checked_at=timezone.now()
    )


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
