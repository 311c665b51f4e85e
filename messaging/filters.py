"""List filters (django-filter). The account choices come from the scoping selector."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import django_filters
from django import forms
from django.http import QueryDict
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from accounts.models import PortalProfile
from accounts.roles import role_of
from accounts.selectors import accounts_visible_to
from bearsms_portal.filtering import PortalFilterSet
from bearsms_portal.templatetags.portal_format import format_when

from .models import (
    DELIVERY_STATUS_CHOICES,
    Feed,
    IncomingMessage,
    OutgoingMessage,
    SandboxMessage,
    Send,
)

Role = PortalProfile.Role

PERIODS = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
_DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local", "class": "form-control-sm"})


class MessageFilter(PortalFilterSet):
    """Filters shared by every feed; ``time_field`` names the column the period applies to."""

    time_field = "received_at"

    period = django_filters.ChoiceFilter(
        label="Period",
        method="filter_period",
        empty_label="Any time",
        choices=[
            ("1h", "Last hour"),
            ("24h", "Last 24 hours"),
            ("7d", "Last 7 days"),
            ("30d", "Last 30 days"),
        ],
    )
    since = django_filters.IsoDateTimeFilter(label="From", method="filter_since", widget=_DATETIME)
    until = django_filters.IsoDateTimeFilter(label="To", method="filter_until", widget=_DATETIME)
    # Plain choices (one small query, no server-side cursor), limited to the visible accounts:
    # an id outside them is a form error, never a filter.
    account = django_filters.TypedChoiceFilter(
        label="Account", field_name="account_id", coerce=int, choices=[]
    )
    src = django_filters.CharFilter(
        label="Sender contains",
        field_name="src",
        lookup_expr="icontains",
        help_text="any part of the sender ID or number",
    )
    dst = django_filters.CharFilter(
        label="Destination",
        method="filter_dst",
        help_text="the number, or its first digits, typed any way (+62 812 345)",
    )
    q = django_filters.CharFilter(label="Text", field_name="text", lookup_expr="icontains")

    field_order: list[str] = []

    def __init__(self, data=None, *args, user=None, **kwargs):
        super().__init__(data, *args, **kwargs)
        if self.field_order:
            self.filters = {
                name: self.filters[name] for name in self.field_order if name in self.filters
            } | self.filters
        if "account" in self.filters and role_of(user) == Role.SUBACCOUNT:
            del self.filters["account"]  # one account: nothing to choose
        if "account" in self.filters:
            choices = accounts_visible_to(user).order_by("username").values_list("pk", "username")
            self.filters["account"].extra["choices"] = [("", "Any account"), *choices]

    def filter_period(self, queryset, name, value):
        span = PERIODS.get(value)
        if span is None:
            return queryset
        return queryset.filter(**{f"{self.time_field}__gte": timezone.now() - span})

    def filter_dst(self, queryset, name, value):
        """``+62 812-345`` finds ``62812345…``: the digits as typed, from the start."""
        digits = re.sub(r"\D", "", value)
        return queryset.filter(dst__startswith=digits) if digits else queryset

    def filter_since(self, queryset, name, value):
        return queryset.filter(**{f"{self.time_field}__gte": value})

    def filter_until(self, queryset, name, value):
        return queryset.filter(**{f"{self.time_field}__lte": value})


class OutgoingFilter(MessageFilter):
    time_field = "dispatched_at"
    status = django_filters.ChoiceFilter(
        label="Status", choices=DELIVERY_STATUS_CHOICES, empty_label="Any status"
    )
    field_order = ["status", "period", "since", "until", "account", "src", "dst", "q"]


class IncomingFilter(MessageFilter):
    keyword = django_filters.CharFilter(label="Keyword", field_name="keyword", lookup_expr="iexact")
    field_order = ["period", "since", "until", "account", "keyword", "src", "dst", "q"]


class InboxFilter(MessageFilter):
    field_order = ["period", "since", "until", "account", "src", "dst", "q"]


class SandboxFilter(MessageFilter):
    account = None
    field_order = ["period", "since", "until", "src", "dst", "q"]


FILTERS = {
    Feed.OUTGOING: OutgoingFilter,
    Feed.INCOMING: IncomingFilter,
    Feed.INBOX: InboxFilter,
    Feed.SANDBOX: SandboxFilter,
}


class SendFilter(PortalFilterSet):
    """Filters of "Sent from the portal"; the accounts offered are those the user may see."""

    account = django_filters.TypedChoiceFilter(
        label="Account", field_name="account_id", coerce=int, choices=[]
    )
    state = django_filters.ChoiceFilter(label="State", choices=Send.State.choices)
    source = django_filters.ChoiceFilter(label="From", choices=Send.Source.choices)
    scheduled = django_filters.BooleanFilter(
        label="Scheduled", field_name="scheduled_for", lookup_expr="isnull", exclude=True
    )
    since = django_filters.IsoDateTimeFilter(
        label="Created from", field_name="created_at", lookup_expr="gte", widget=_DATETIME
    )
    until = django_filters.IsoDateTimeFilter(
        label="Created to", field_name="created_at", lookup_expr="lt", widget=_DATETIME
    )
    text = django_filters.CharFilter(label="Text", field_name="text", lookup_expr="icontains")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["account"].extra["choices"] = list(
            accounts_visible_to(user).values_list("pk", "username")
        )


def describe(feed: str, query: str, user) -> SafeString:
    """A list's filter (its query string, as an export keeps it) in words, for ``user``:
    "Status: Delivered · Account: alice · From: 2026-11-30 10:00"."""
    rows = (
        OutgoingMessage
        if feed == Feed.OUTGOING
        else SandboxMessage
        if feed == Feed.SANDBOX
        else IncomingMessage
    ).objects.none()
    filterset = FILTERS[feed](QueryDict(query), queryset=rows, user=user)
    if not filterset.is_valid():
        return format_html("{}", "an invalid filter (nothing to export)")
    parts = []
    for name, field in filterset.form.fields.items():
        value = filterset.form.cleaned_data.get(name)
        if value in (None, ""):
            continue
        if isinstance(value, datetime):
            shown = format_when(value)
        elif hasattr(field, "choices"):
            shown = {str(k): v for k, v in field.choices}.get(str(value), value)
        else:
            shown = value
        parts.append(format_html("{}: {}", field.label, shown))
    if not parts:
        return format_html("{}", "no filter: every message you can see")
    return format_html_join(" · ", "{}", ((part,) for part in parts))
