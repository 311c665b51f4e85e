"""django-tables2 tables of the four feeds: columns, headers and the sorts they offer.

Text is rendered escaped (autoescape), always."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse

from .models import Feed


class MessageTable(tables.Table):
    """Columns, headers and sorting; the body is written out in ``messaging/table.html``
    (keep the two in the same column order)."""

    feed = Feed.INCOMING

    def __init__(self, *args, **kwargs):
        # (tables2 does not inherit Meta into subclasses, so the shared options go here)
        kwargs.setdefault("attrs", {"class": "table table-sm table-hover align-middle bg-white"})
        kwargs.setdefault("order_by_field", "sort")
        kwargs.setdefault("template_name", "messaging/table.html")
        kwargs.setdefault("empty_text", "No messages match.")
        super().__init__(*args, **kwargs)
        # a subaccount user sees one account: no Account column (see messaging/table.html)
        self.show_account = "account" in self.base_columns and "account" not in (
            kwargs.get("exclude") or ()
        )
        self.detail_base = reverse("messaging:detail", args=[self.feed, 0])[:-2]


def _time(accessor: str) -> tables.DateTimeColumn:
    return tables.DateTimeColumn(
        accessor=accessor, verbose_name="Time", order_by=(accessor,), format="Y-m-d H:i:s"
    )


def _id(accessor: str) -> tables.Column:
    return tables.Column(accessor=accessor, verbose_name="Id", order_by=(accessor,))


class OutgoingTable(MessageTable):
    feed = Feed.OUTGOING
    time = _time("dispatched_at")
    id = _id("smslog_id")
    account = tables.Column(order_by=("account_id",))
    sender = tables.Column(accessor="src", verbose_name="Sender")
    destination = tables.Column(accessor="dst", verbose_name="Destination")
    text = tables.Column(orderable=False)
    status = tables.Column(order_by=("status",))


class IncomingTable(MessageTable):
    feed = Feed.INCOMING
    time = _time("received_at")
    id = _id("server_id")
    account = tables.Column(order_by=("account_id",))
    sender = tables.Column(accessor="src", verbose_name="Sender")
    destination = tables.Column(accessor="dst", verbose_name="Receiving number")
    keyword = tables.Column(orderable=False)
    text = tables.Column(orderable=False)


class InboxTable(MessageTable):
    feed = Feed.INBOX
    time = _time("received_at")
    id = _id("server_id")
    account = tables.Column(order_by=("account_id",))
    sender = tables.Column(accessor="src", verbose_name="Sender")
    destination = tables.Column(accessor="dst", verbose_name="Destination")
    text = tables.Column(orderable=False)


class SandboxTable(MessageTable):
    feed = Feed.SANDBOX
    time = _time("received_at")
    id = _id("server_id")
    sender = tables.Column(accessor="src", verbose_name="Sender")
    destination = tables.Column(accessor="dst", verbose_name="Receiving number")
    text = tables.Column(orderable=False)


TABLES = {
    Feed.OUTGOING: OutgoingTable,
    Feed.INCOMING: IncomingTable,
    Feed.INBOX: InboxTable,
    Feed.SANDBOX: SandboxTable,
}


def _sorts(time: str, server_id: str, *, account: bool = True, status: bool = False) -> dict:
    """Sort name → keyset keys. Ties on a column are broken by time, then by the local id, so
    every key is unique and a page boundary never splits or repeats a row."""
    sorts = {
        "time": (time, "id"),
        "id": (server_id, "id"),
        "sender": ("src", time, "id"),
        "destination": ("dst", time, "id"),
    }
    if status:
        sorts["status"] = ("status", time, "id")
    if account:
        sorts["account"] = ("account", time, "id")
    return sorts


#: sort name → keyset keys, per feed; every one is backed by an index (see the models)
SORTS = {
    Feed.OUTGOING: _sorts("dispatched_at", "smslog_id", status=True),
    Feed.INCOMING: _sorts("received_at", "server_id"),
    Feed.INBOX: _sorts("received_at", "server_id"),
    Feed.SANDBOX: _sorts("received_at", "server_id", account=False)
    | {"id": ("server_id",)},  # unique on its own: one index, no tie-break
}
