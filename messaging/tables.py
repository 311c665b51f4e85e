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


class OutgoingTable(MessageTable):
    feed = Feed.OUTGOING
    time = _time("dispatched_at")
    smslog_id = tables.Column(verbose_name="Id", orderable=False)
    account = tables.Column(order_by=("account_id",))
    src = tables.Column(verbose_name="Sender", orderable=False)
    dst = tables.Column(verbose_name="Destination", orderable=False)
    text = tables.Column(orderable=False)
    status = tables.Column(order_by=("status",))


class IncomingTable(MessageTable):
    feed = Feed.INCOMING
    time = _time("received_at")
    server_id = tables.Column(verbose_name="Id", orderable=False)
    account = tables.Column(order_by=("account_id",))
    src = tables.Column(verbose_name="Sender", orderable=False)
    dst = tables.Column(verbose_name="Receiving number", orderable=False)
    keyword = tables.Column(orderable=False)
    text = tables.Column(orderable=False)


class InboxTable(MessageTable):
    feed = Feed.INBOX
    time = _time("received_at")
    server_id = tables.Column(verbose_name="Id", orderable=False)
    account = tables.Column(order_by=("account_id",))
    src = tables.Column(verbose_name="Sender", orderable=False)
    dst = tables.Column(verbose_name="Destination", orderable=False)
    text = tables.Column(orderable=False)


class SandboxTable(MessageTable):
    feed = Feed.SANDBOX
    time = _time("received_at")
    server_id = tables.Column(verbose_name="Id", orderable=False)
    src = tables.Column(verbose_name="Sender", orderable=False)
    dst = tables.Column(verbose_name="Receiving number", orderable=False)
    text = tables.Column(orderable=False)


TABLES = {
    Feed.OUTGOING: OutgoingTable,
    Feed.INCOMING: IncomingTable,
    Feed.INBOX: InboxTable,
    Feed.SANDBOX: SandboxTable,
}

#: sort name → (keyset keys); every one is backed by an index (see the models)
SORTS = {
    Feed.OUTGOING: {
        "time": ("dispatched_at", "id"),
        "status": ("status", "dispatched_at", "id"),
        "account": ("account", "dispatched_at", "id"),
    },
    Feed.INCOMING: {"time": ("received_at", "id"), "account": ("account", "received_at", "id")},
    Feed.INBOX: {"time": ("received_at", "id"), "account": ("account", "received_at", "id")},
    Feed.SANDBOX: {"time": ("received_at", "id")},
}
