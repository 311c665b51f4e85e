"""Reading messages, scoped: every list, detail, export and dashboard goes through here.

Scoping is decided once, by :func:`accounts.selectors.accounts_visible_to`: a user sees the
messages of the accounts they may see. The sandbox feed (``sx``) belongs to no account and is
for operators only.
"""

from __future__ import annotations

import json

from django.db import connection
from django.db.models import Count, QuerySet, Sum
from django.http import QueryDict

from accounts.roles import is_operator
from accounts.selectors import accounts_visible_to

from .filters import FILTERS
from .models import (
    DailyStat,
    Export,
    Feed,
    IncomingMessage,
    OutgoingMessage,
    RecipientFile,
    SandboxMessage,
    Send,
    SendDestination,
    SyncCursor,
)


def visible_account_ids(user) -> list[int] | None:
    """Ids of the accounts ``user`` may see; ``None`` means every account (operators)."""
    if is_operator(user):
        return None
    return list(accounts_visible_to(user).values_list("pk", flat=True))


def _scoped(qs: QuerySet, user) -> QuerySet:
    ids = visible_account_ids(user)
    return qs if ids is None else qs.filter(account_id__in=ids)


def outgoing_visible_to(user) -> QuerySet[OutgoingMessage]:
    return _scoped(OutgoingMessage.objects.select_related("account"), user)


def incoming_visible_to(user, feed: str = Feed.INCOMING) -> QuerySet[IncomingMessage]:
    return _scoped(IncomingMessage.objects.select_related("account").filter(feed=feed), user)


def sandbox_visible_to(user) -> QuerySet[SandboxMessage]:
    if is_operator(user):
        return SandboxMessage.objects.all()
    return SandboxMessage.objects.none()


def messages_visible_to(user, feed: str) -> QuerySet:
    if feed == Feed.OUTGOING:
        return outgoing_visible_to(user)
    if feed == Feed.SANDBOX:
        return sandbox_visible_to(user)
    return incoming_visible_to(user, feed)


def export_rows(user, feed: str, query: str) -> QuerySet:
    """The rows of an export: the list's scoped rows filtered by ``query`` (the list's filter
    form, URL-encoded), newest first. An invalid filter exports nothing."""
    qs = messages_visible_to(user, feed)
    filterset = FILTERS[feed](QueryDict(query), queryset=qs, user=user)
    qs = filterset.qs if filterset.is_valid() else qs.none()
    time_field = "dispatched_at" if feed == Feed.OUTGOING else "received_at"
    return qs.order_by(f"-{time_field}", "-id")


def daily_stats_visible_to(user) -> QuerySet[DailyStat]:
    return _scoped(DailyStat.objects.all(), user)


def estimated_total(user, feed: str, qs: QuerySet, *, filtered: bool) -> int | None:
    """About how many rows ``qs`` (a list's scoped, filtered rows) holds, when that is cheap:
    PostgreSQL's planner estimate (one EXPLAIN, no scan), else — unfiltered outgoing only —
    the sum of the daily rows the sync keeps. ``None``: no cheap figure (never a COUNT)."""
    if connection.vendor == "postgresql":
        plan = json.loads(qs.order_by().explain(format="json"))
        return int(plan[0]["Plan"]["Plan Rows"])
    if feed == Feed.OUTGOING and not filtered:
        return daily_stats_visible_to(user).aggregate(n=Sum("sent"))["n"] or 0
    return None


def cursors_visible_to(user) -> QuerySet[SyncCursor]:
    """Sync health is an operator page."""
    if is_operator(user):
        return SyncCursor.objects.select_related("account")
    return SyncCursor.objects.none()


def exports_visible_to(user) -> QuerySet[Export]:
    """Export files are private to the person who asked for them, operators included."""
    return Export.objects.filter(user=user)


# --- sends through the portal ----------------------------------------------------------------


def sends_visible_to(user) -> QuerySet[Send]:
    """Sends as the accounts ``user`` may see (operators: all)."""
    return _scoped(Send.objects.select_related("account", "created_by"), user)


def scheduled_sends_visible_to(user, *, now=None) -> QuerySet[Send]:
    """Sends scheduled through the portal and not yet seen sent: some submitted destination has
    no synced outgoing (ds) row yet, or the send is still being submitted."""
    from django.db.models import Exists, OuterRef, Q
    from django.utils import timezone

    now = now or timezone.now()
    synced = OutgoingMessage.objects.filter(
        account_id=OuterRef("send__account_id"), smslog_id=OuterRef("smslog_id")
    )
    waiting = SendDestination.objects.filter(
        send=OuterRef("pk"), state=SendDestination.State.SUBMITTED, smslog_id__isnull=False
    ).exclude(Exists(synced))
    return (
        sends_visible_to(user)
        .filter(scheduled_for__isnull=False)
        .filter(
            Exists(waiting)
            | Q(scheduled_for__gt=now, state__in=(Send.State.QUEUED, Send.State.SENDING))
        )
        .exclude(state__in=(Send.State.CANCELLED, Send.State.FAILED, Send.State.DRAFT))
    )


def send_summary(send: Send) -> dict[str, int]:
    """Destinations of ``send`` per state; a #group counts through its member rows once it
    is submitted."""
    State = SendDestination.State
    counts = dict.fromkeys(State.values, 0)
    rows = (
        SendDestination.objects.filter(send_id=send.pk)
        .exclude(kind=SendDestination.Kind.GROUP, state=State.SUBMITTED)
        .values("state")
        .annotate(n=Count("id"))
    )
    for row in rows:
        counts[row["state"]] = row["n"]
    counts["total"] = sum(counts[s] for s in State.values)
    return counts


def delivery_of(send: Send, destinations) -> dict[int, OutgoingMessage]:
    """The synced ds rows of these destinations, by smslog_id (delivery as the sync sees it)."""
    ids = [d.smslog_id for d in destinations if d.smslog_id]
    if not ids:
        return {}
    rows = OutgoingMessage.objects.filter(account_id=send.account_id, smslog_id__in=ids)
    return {row.smslog_id: row for row in rows}


def recipient_files_visible_to(user) -> QuerySet[RecipientFile]:
    """Bulk-send files, scoped like the sends they feed: by the sending account."""
    return _scoped(RecipientFile.objects.select_related("account", "user"), user)
