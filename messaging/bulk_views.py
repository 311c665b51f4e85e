"""Bulk send pages: upload a file, map its columns, review the check, follow the send.

Thin views: files come through :func:`messaging.selectors.recipient_files_visible_to` (another
user's file is a 404), every action through :mod:`messaging.services.bulk`; a service's
``PermissionDenied`` becomes the 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.models import BearSMSAccount
from accounts.roles import is_operator
from bearsms_portal.csvfile import csv_response
from bearsms_portal.pages import run_service

from .bulk_forms import MappingForm, RecipientFileForm, StartForm
from .models import RecipientFile
from .selectors import recipient_files_visible_to, send_summary
from .services import bulk
from .services.sending import accounts_for_compose

PREVIEW_ROWS = 10
BAD_ROWS_SHOWN = 20


def _file(request, pk) -> RecipientFile:
    return get_object_or_404(recipient_files_visible_to(request.user), pk=pk)


@login_required
def upload(request):
    available, unavailable = accounts_for_compose(request.user)
    accounts = BearSMSAccount.objects.filter(pk__in=[a.pk for a in available]).order_by("username")
    form = RecipientFileForm(request.POST or None, request.FILES or None, accounts=accounts)
    if request.method == "POST" and form.is_valid():
        ran = run_service(
            request,
            bulk.recipient_file_upload,
            form=form,
            account=form.cleaned_data["account"],
            upload=form.cleaned_data["file"],
            form_key=form.form_key,
        )
        if ran:
            return redirect("messaging:bulk_map", pk=ran.result.pk)
    return render(
        request,
        "messaging/bulk/upload.html",
        {
            "form": form,
            "unavailable": unavailable,
            "files": recipient_files_visible_to(request.user)[:20],
        },
    )


@login_required
def mapping(request, pk: int):
    recipient_file = _file(request, pk)
    if recipient_file.send_id:
        return redirect("messaging:bulk_file", pk=pk)
    sample = bulk.recipient_file_sample(recipient_file)
    raw_header = sample.rows[0][1] if sample.rows else []
    labels = [
        (i, f"{_letter(i)}: {raw_header[i] if i < len(raw_header) else ''}")
        for i in range(sample.width)
    ]
    options = recipient_file.options
    initial = {
        "header": recipient_file.header,
        "number_column": recipient_file.number_column,
        "text": recipient_file.text,
        "sender": options.get("sender", recipient_file.account.sender),
        "footer": options.get("footer", True),
        "flash": options.get("flash", False),
    }
    form = MappingForm(request.POST or None, initial=initial, columns=labels)
    if request.method == "POST" and form.is_valid():
        ran = run_service(
            request,
            bulk.recipient_file_map,
            form=form,
            recipient_file=recipient_file,
            **form.cleaned_data,
        )
        if ran:
            return redirect("messaging:bulk_file", pk=recipient_file.pk)
    header = form["header"].value() if form.is_bound else recipient_file.header
    return render(
        request,
        "messaging/bulk/mapping.html",
        {
            "file": recipient_file,
            "form": form,
            "sample": sample,
            "fields": sample.columns(bool(header)),
            "fields_with_header": sample.columns(True),
            "fields_without_header": sample.columns(False),
        },
    )


def _letter(i: int) -> str:
    return chr(65 + i) if i < 26 else str(i + 1)


def _status(recipient_file: RecipientFile) -> dict:
    data = {
        "file_state": recipient_file.state,
        "file_state_label": recipient_file.get_state_display(),
        "rows_read": recipient_file.rows_read,
        "rows_good": recipient_file.rows_good,
        "rows_bad": recipient_file.rows_bad,
        "error": recipient_file.error,
    }
    send = recipient_file.send
    if send is not None:
        data["send"] = bulk.send_progress(send, send_summary(send))
    return data


@login_required
def detail(request, pk: int):
    return _detail_page(request, _file(request, pk), StartForm())


def _detail_page(request, recipient_file: RecipientFile, start_form: StartForm):
    checked = recipient_file.state in (RecipientFile.State.CHECKED, RecipientFile.State.SENDING)
    return render(
        request,
        "messaging/bulk/detail.html",
        {
            "file": recipient_file,
            "status": _status(recipient_file),
            "start_form": start_form,
            "can_send_anyway": is_operator(request.user),
            "preview": bulk.good_rows(recipient_file)[:PREVIEW_ROWS] if checked else [],
            "bad_rows": bulk.bad_rows(recipient_file)[:BAD_ROWS_SHOWN] if checked else [],
        },
    )


@login_required
def status(request, pk: int):
    return JsonResponse(_status(_file(request, pk)))


@login_required
@require_POST
def start(request, pk: int):
    recipient_file = _file(request, pk)
    form = StartForm(request.POST)
    if form.is_valid() and run_service(
        request,
        bulk.bulk_send_start,
        form=form,
        recipient_file=recipient_file,
        scheduled_for=form.cleaned_data["schedule"],
        scheduled_zone=form.scheduled_zone,
        confirmed=form.cleaned_data["confirmed"],
    ):
        return redirect("messaging:bulk_file", pk=pk)
    return _detail_page(request, recipient_file, form)  # shown again, with its errors


def _steer(service, done: str):
    @login_required
    @require_POST
    def view(request, pk: int):
        recipient_file = _file(request, pk)
        if recipient_file.send is None:
            messages.error(request, "This file has not been sent.")
        elif run_service(request, service, send=recipient_file.send):
            messages.success(request, done)
        return redirect("messaging:bulk_file", pk=pk)

    return view


pause = _steer(bulk.send_pause, "Paused: no new message is submitted until you resume.")
resume = _steer(bulk.send_resume, "Resumed.")
cancel = _steer(bulk.send_cancel, "Cancelled: what was not submitted will not be sent.")


@login_required
def bad_rows_csv(request, pk: int):
    recipient_file = _file(request, pk)
    report = bulk.bad_rows_report(recipient_file)
    return csv_response(f"bad-rows-{recipient_file.pk}.csv", next(report), report)
