"""Sending pages: compose, the send page (with its live JSON), "Sent from the portal", the
scheduled list and the by-hand settling of unknown outcomes. Thin: reading through
:mod:`messaging.selectors`, doing through :mod:`messaging.services.sending`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.errors import ServiceError
from accounts.roles import account_of
from accounts.selectors import accounts_visible_to
from bearsms_portal import bearsms as api
from bearsms_portal.pages import run_service
from bearsms_portal.paging import per_page

from .filters import SendFilter
from .forms import ComposeForm, ResolveForm
from .models import Send, SendDestination
from .segments import count_segments
from .selectors import (
    delivery_of,
    scheduled_sends_visible_to,
    send_summary,
    sends_visible_to,
)
from .services import sending

DESTINATIONS_SHOWN = 500


@login_required
def compose(request):
    available, unavailable = sending.accounts_for_compose(request.user)
    if not available and not unavailable:
        raise PermissionDenied
    own = account_of(request.user)
    initial = {"account": own.pk if own in available else None}
    form = ComposeForm(
        request.POST or None, accounts=available, unavailable=unavailable, initial=initial
    )
    warnings: list[str] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            send = sending.send_message(
                actor=request.user,
                account=data["account"],
                recipients=data["recipients"],
                text=data["text"],
                sender=data["sender"],
                footer=data["footer"],
                flash=data["message_type"] == Send.MessageType.FLASH,
                scheduled_for=data["schedule"],
                scheduled_zone=form.scheduled_zone,
                confirmed=data["confirmed"],
                form_key=form.form_key,
            )
        except sending.NeedsConfirmation as exc:
            warnings = exc.warnings
            form.data = form.data.copy()
            form.data["confirmed"] = "on"
        except sending.BadRecipients as exc:
            for entry in exc.entries:
                form.add_error("recipients", f"“{entry.entered}”: {entry.reason}")
            form.renew_key()
        except ServiceError as exc:
            form.add_service_error(exc)
            form.renew_key()
        else:
            messages.success(request, _queued_message(send))
            return redirect("sending:detail", pk=send.pk)
    return render(
        request,
        "messaging/compose.html",
        {
            "form": form,
            "warnings": warnings,
            "unavailable": unavailable,
            "compose_data": {
                "footers": {a.pk: sending.footer_of(a, True) for a in available},
                "senders": {a.pk: a.sender for a in available},
                "contactsUrl": reverse("sending:contacts"),
            },
        },
    )


def _queued_message(send: Send) -> str:
    extra = []
    if send.duplicates_dropped:
        extra.append(f"{send.duplicates_dropped} duplicate(s) dropped")
    tail = f" ({', '.join(extra)})" if extra else ""
    return f"{send.destinations_total} destination(s) queued for sending{tail}."


@login_required
def contacts(request):
    """The picker's search: phonebook contacts and groups of the chosen account, as JSON."""
    account = get_object_or_404(accounts_visible_to(request.user), pk=request.GET.get("account"))
    try:
        found = sending.lookup_contacts(
            actor=request.user, account=account, query=request.GET.get("q", "")
        )
    except ServiceError as exc:
        return JsonResponse({"results": [], "error": exc.message}, status=400)
    except api.BearSMSError:
        return JsonResponse(
            {"results": [], "error": "The phonebook could not be searched just now."}, status=502
        )
    return JsonResponse({"results": found})


def _send(request, pk) -> Send:
    return get_object_or_404(sends_visible_to(request.user), pk=pk)


def _destinations(send: Send):
    return list(
        SendDestination.objects.filter(send=send)
        .exclude(kind=SendDestination.Kind.GROUP, state=SendDestination.State.SUBMITTED)
        .order_by("position", "id")[:DESTINATIONS_SHOWN]
    )


@login_required
def detail(request, pk):
    send = _send(request, pk)
    destinations = _destinations(send)
    delivery = delivery_of(send, destinations)
    for destination in destinations:
        destination.delivery = delivery.get(destination.smslog_id)
    count = count_segments(send.text)
    return render(
        request,
        "messaging/send_detail.html",
        {
            "send": send,
            "summary": send_summary(send),
            "destinations": destinations,
            "shown": DESTINATIONS_SHOWN,
            "count": count,
            "can_settle": sending.can_settle(request.user, send),
        },
    )


@login_required
def status(request, pk):
    """The send page's live part: summary, and state + delivery per destination."""
    send = _send(request, pk)
    destinations = _destinations(send)
    delivery = delivery_of(send, destinations)
    rows = []
    for d in destinations:
        status_ = delivery.get(d.smslog_id)
        rows.append(
            {
                "id": d.pk,
                "state": d.state,
                "state_label": d.get_state_display(),
                "smslog_id": d.smslog_id,
                "reason": d.reason,
                "resolution": d.resolution,
                "delivery": status_.get_status_display() if status_ else "",
            }
        )
    summary = send_summary(send)
    final = not send.is_active and all(
        r["delivery"] in ("Delivered", "Failed") for r in rows if r["smslog_id"]
    )
    return JsonResponse(
        {
            "state": send.state,
            "state_label": send.get_state_display(),
            "summary": summary,
            "destinations": rows,
            "final": final,
        }
    )


@login_required
@require_POST
def resolve(request, pk, destination_pk):
    send = _send(request, pk)
    destination = get_object_or_404(send.destinations, pk=destination_pk)
    form = ResolveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say whether the message arrived.")
        return redirect("sending:detail", pk=send.pk)
    ran = run_service(
        request,
        sending.resolve_by_hand,
        destination=destination,
        submitted=form.cleaned_data["submitted"],
    )
    if ran:
        messages.success(request, f"{ran.result.address}: {ran.result.resolution}")
    return redirect("sending:detail", pk=send.pk)


@login_required
@require_POST
def resend(request, pk, destination_pk):
    send = _send(request, pk)
    destination = get_object_or_404(send.destinations, pk=destination_pk)
    ran = run_service(request, sending.resend_by_hand, destination=destination)
    if ran:
        fresh = ran.result
        messages.success(request, f"{fresh.address} resent by hand: {fresh.get_state_display()}.")
    return redirect("sending:detail", pk=send.pk)


def _page(request, queryset):
    return Paginator(queryset, per_page(request)).get_page(request.GET.get("page"))


@login_required
def sent_list(request):
    filterset = SendFilter(
        request.GET or None, queryset=sends_visible_to(request.user), user=request.user
    )
    page = _page(request, filterset.qs)
    return render(
        request,
        "messaging/send_list.html",
        {"filter": filterset, "page": page, "title": "Sent from the portal", "scheduled": False},
    )


@login_required
def scheduled_list(request):
    page = _page(request, scheduled_sends_visible_to(request.user).order_by("scheduled_for", "id"))
    return render(
        request,
        "messaging/send_list.html",
        {"page": page, "title": "Scheduled", "scheduled": True},
    )
