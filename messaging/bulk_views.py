"""Bulk send pages: upload a file, map its columns, review the check, follow the send.

Thin views: files come through :func:`messaging.selectors.recipient_files_visible_to` (another
user's file is a 404), every action through :mod:`messaging.services.bulk`.
"""

from __future__ import annotations

import csv

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from accounts.models import BearSMSAccount
from accounts.selectors import accounts_visible_to

from .bulk_forms import MappingForm, RecipientFileForm
from .models import RecipientFile
from .selectors import recipient_files_visible_to
from .services import bulk

PREVIEW_ROWS = 10
BAD_ROWS_SHOWN = 20


def _sendable_accounts(user):
    return (
        accounts_visible_to(user)
        .exclude(token_encrypted="")
        .exclude(status=BearSMSAccount.Status.BANNED)
        .order_by("username")
    )


def _file(request, pk) -> RecipientFile:
    return get_object_or_404(recipient_files_visible_to(request.user), pk=pk)


def _service_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            for e in errors:
                form.add_error(field if field in form.fields else None, e)
    else:
        for message in error.messages:
            form.add_error(None, message)


@login_required
def upload(request):
    accounts = _sendable_accounts(request.user)
    form = RecipientFileForm(request.POST or None, request.FILES or None, accounts=accounts)
    if request.method == "POST" and form.is_valid():
        try:
            recipient_file = bulk.recipient_file_upload(
                actor=request.user,
                account=form.cleaned_data["account"],
                upload=form.cleaned_data["file"],
            )
        except ValidationError as exc:
            _service_errors(form, exc)
        else:
            return redirect("messaging:bulk_map", pk=recipient_file.pk)
    return render(
        request,
        "messaging/bulk/upload.html",
        {"form": form, "files": recipient_files_visible_to(request.user)[:20]},
    )


@login_required
def mapping(request, pk: int):
    recipient_file = _file(request, pk)
    sample = bulk.recipient_file_sample(recipient_file)
    header = request.POST.get("header") == "on" if request.method == "POST" else None
    names = sample.columns(header)
    raw_header = sample.rows[0][1] if sample.rows else []
    labels = [
        (i, f"{chr(65 + i) if i < 26 else i + 1}: {raw_header[i] if i < len(raw_header) else ''}")
        for i in range(sample.width)
    ]
    initial = {
        "header": recipient_file.header,
        "number_column": recipient_file.number_column,
        "text": recipient_file.text,
        **{k: v for k, v in recipient_file.options.items() if k in ("sender", "flash", "nofooter")},
    }
    form = MappingForm(request.POST or None, initial=initial, columns=labels)
    if request.method == "POST" and form.is_valid():
        try:
            bulk.recipient_file_map(
                actor=request.user,
                recipient_file=recipient_file,
                header=form.cleaned_data["header"],
                number_column=form.cleaned_data["number_column"],
                text=form.cleaned_data["text"],
                options=form.options(),
            )
        except ValidationError as exc:
            _service_errors(form, exc)
        else:
            return redirect("messaging:bulk_file", pk=recipient_file.pk)
    return render(
        request,
        "messaging/bulk/mapping.html",
        {
            "file": recipient_file,
            "form": form,
            "sample": sample,
            "fields": names,
            "fields_with_header": sample.columns(True),
            "fields_without_header": sample.columns(False),
        },
    )


def _status(recipient_file: RecipientFile) -> dict:
    return {
        "state": recipient_file.state,
        "state_label": recipient_file.get_state_display(),
        "rows_read": recipient_file.rows_read,
        "rows_good": recipient_file.rows_good,
        "rows_bad": recipient_file.rows_bad,
        "error": recipient_file.error,
    }


@login_required
def detail(request, pk: int):
    recipient_file = _file(request, pk)
    checked = recipient_file.state in (RecipientFile.State.CHECKED, RecipientFile.State.SENDING)
    return render(
        request,
        "messaging/bulk/detail.html",
        {
            "file": recipient_file,
            "status": _status(recipient_file),
            "preview": bulk.good_rows(recipient_file)[:PREVIEW_ROWS] if checked else [],
            "bad_rows": bulk.bad_rows(recipient_file)[:BAD_ROWS_SHOWN] if checked else [],
        },
    )


@login_required
def status(request, pk: int):
    return JsonResponse(_status(_file(request, pk)))


class _Echo:
    def write(self, value):
        return value


@login_required
def bad_rows_csv(request, pk: int):
    recipient_file = _file(request, pk)
    writer = csv.writer(_Echo())
    rows = (writer.writerow(row).encode() for row in bulk.bad_rows_report(recipient_file))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="bad-rows-{recipient_file.pk}.csv"'
    return response
