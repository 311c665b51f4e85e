"""django-tables2 tables of the four feeds. Text is rendered escaped (autoescape), always."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from .models import Feed

_STATUS_CLASS = {0: "secondary", 1: "info", 2: "danger", 3: "success"}


class _DetailLink(tables.Column):
    def __init__(self, feed: str, **kwargs):
        self.feed = feed
        super().__init__(**kwargs)

    def render(self, value, record):
        url = reverse("messaging:detail", args=[self.feed, record.pk])
        return format_html('<a href="{}">{}</a>', url, value)


class _Text(tables.Column):
    def render(self, value):
        short = value if len(value) <= 80 else value[:79] + "…"
        return format_html('<span class="text-break">{}</span>', short)


class MessageTable(tables.Table):
    feed = Feed.INCOMING

    class Meta:
        attrs = {"class": "table table-sm table-hover align-middle bg-white"}
        order_by_field = "sort"
        template_name = "django_tables2/bootstrap5.html"
        empty_text = "No messages match."


def _time(accessor: str) -> tables.DateTimeColumn:
    return tables.DateTimeColumn(accessor=accessor, verbose_name="Time", order_by=(accessor,),
                                 format="Y-m-d H:i:s")


class OutgoingTable(MessageTable):
    time = _time("dispatched_at")
    smslog_id = _DetailLink(Feed.OUTGOING, verbose_name="Id", orderable=False)
    account = tables.Column(order_by=("account_id",))
    src = tables.Column(verbose_name="Sender", orderable=False)
    dst = tables.Column(verbose_name="Destination", orderable=False)
    text = _Text(orderable=False)
    status = tables.Column(order_by=("status",))

    def render_status(self, record):
        return format_html('<span class="badge text-bg-{}">{}</span>',
                           _STATUS_CLASS.get(record.status, "secondary"),
                           record.get_status_display())


class IncomingTable(MessageTable):
    time = _time("received_at")
    server_id = _DetailLink(Feed.INCOMING, verbose_name="Id", orderable=False)
    account = tables.Column(order_by=("account_id",))
    src = tables.Column(verbose_name="Sender", orderable=False)
    dst = tables.Column(verbose_name="Receiving number", orderable=False)
    keyword = tables.Column(orderable=False)
    text = _Text(orderable=False)


class InboxTable(MessageTable):
    time = _time("received_at")
    server_id = _DetailLink(Feed.INBOX, verbose_name="Id", orderable=False)
    account = tables.Column(order_by=("account_id",))
    src = tables.Column(verbose_name="Sender", orderable=False)
    dst = tables.Column(verbose_name="Destination", orderable=False)
    text = _Text(orderable=False)


class SandboxTable(MessageTable):
    time = _time("received_at")
    server_id = _DetailLink(Feed.SANDBOX, verbose_name="Id", orderable=False)
    src = tables.Column(verbose_name="Sender", orderable=False)
    dst = tables.Column(verbose_name="Receiving number", orderable=False)
    text = _Text(orderable=False)


TABLES = {Feed.OUTGOING: OutgoingTable, Feed.INCOMING: IncomingTable,
          Feed.INBOX: InboxTable, Feed.SANDBOX: SandboxTable}

#: sort name → (keyset keys); every one is backed by an index (see the models)
SORTS = {
    Feed.OUTGOING: {"time": ("dispatched_at", "id"), "status": ("status", "dispatched_at", "id"),
                    "account": ("account", "dispatched_at", "id")},
    Feed.INCOMING: {"time": ("received_at", "id"), "account": ("account", "received_at", "id")},
    Feed.INBOX: {"time": ("received_at", "id"), "account": ("account", "received_at", "id")},
    Feed.SANDBOX: {"time": ("received_at", "id")},
}
