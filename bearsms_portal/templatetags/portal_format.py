"""The portal's one set of display filters, loaded on every template (``builtins``).

- ``{{ moment|when }}`` — ``2026-11-30 14:57`` in the user's zone (tables), and
  ``{{ moment|when_full }}`` with seconds (detail pages); both are a ``<time>`` element whose
  tooltip is the relative form ("3 minutes ago"). The zone is named once per page, by
  ``{% zone_note %}`` in ``base.html``.
- ``{{ amount|credit }}`` — two decimals, thousands separators, negative in red with a minus.
- ``{{ entry.action|action_words }}``, ``{{ feed|feed_words }}``, ``{{ code|error_words }}`` —
  words, with the code kept in the tooltip.

Python code (django-tables2 columns) uses the same functions: :func:`format_when`,
:func:`format_credit`; audit actions are named by ``accounts.audit.action_label`` (one table,
built on the client's op table).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince, timeuntil

from accounts.audit import action_label
from accounts.zones import zone_label
from bearsms_portal.bearsms.ops import OPS
from messaging.models import Feed

register = template.Library()

TABLE_FORMAT = "%Y-%m-%d %H:%M"
DETAIL_FORMAT = "%Y-%m-%d %H:%M:%S"

#: API op → words, for audit steps, sync feeds and errors: the op table's labels, and the
#: message pages' names for the four feeds
OP_WORDS = {
    **{str(op): spec.label for op, spec in OPS.items()},
    **{str(feed): str(label) for feed, label in Feed.choices},
}
#: BearSMS ERR codes in words (bearsms-api.md)
ERROR_WORDS = {
    100: "Authentication failed",
    101: "Unknown action",
    102: "A field is empty",
    103: "Not enough credit",
    104: "The server has no token for this account",
    105: "Webservices are not enabled for this account",
    106: "The portal's IP address is not allowed for this account",
    200: "Sending failed",
    201: "Destination or message is empty",
    400: "No delivery status available",
    401: "No delivery status yet: the message is still queued",
    402: "No delivery status: the queue has been processed",
    501: "No messages",
    600: "The administrator login was refused",
    601: "Inject failed",
    602: "Sender or message is empty",
    603: "Account data missing",
    604: "The account could not be added",
    605: "Unknown username",
    606: "The account could not be removed",
    607: "Unknown username or reseller",
    608: "The reseller could not be set",
    609: "Unknown username",
    610: "The reseller could not be read",
    611: "Unknown username",
    612: "The account could not be banned",
    613: "Unknown username",
    614: "The account could not be unbanned",
    615: "Account details missing",
    616: "The account details could not be changed",
    617: "Account configuration missing",
    618: "The account configuration could not be changed",
    619: "Username missing",
    620: "The credit could not be read (it may be exactly zero)",
    621: "Username missing",
    622: "The credit could not be added",
    623: "Username missing",
    624: "The credit could not be deducted",
    625: "Username missing",
    626: "The login key could not be set",
    627: "The number is already on the stoplist",
}


def _local(moment):
    if isinstance(moment, datetime):
        return timezone.localtime(moment) if timezone.is_aware(moment) else moment
    return moment


def _relative(moment: datetime) -> str:
    now = timezone.now()
    if moment <= now:
        return f"{timesince(moment, now)} ago"
    return f"in {timeuntil(moment, now)}"


def format_when(moment, *, seconds: bool = False, empty: str = "—") -> SafeString | str:
    """One date and time in the active (user's) zone, relative form as tooltip."""
    if not moment:
        return empty
    if isinstance(moment, str):  # an ISO time kept in JSON (logs of steps)
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            return moment
    if not isinstance(moment, datetime) and isinstance(moment, date):
        return format_html('<time datetime="{}">{}</time>', moment.isoformat(), moment.isoformat())
    local = _local(moment)
    text = local.strftime(DETAIL_FORMAT if seconds else TABLE_FORMAT)
    tip = _relative(moment) if timezone.is_aware(moment) else ""
    return format_html(
        '<time class="text-nowrap" datetime="{}" title="{}">{}</time>',
        moment.isoformat(),
        tip,
        text,
    )


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def format_credit(value, *, signed: bool = False, empty: str = "—") -> SafeString | str:
    """``1,234.50``; negative as ``-1,234.50`` in red; ``signed`` adds ``+`` to credits."""
    amount = _decimal(value)
    if amount is None:
        return empty
    amount = amount.quantize(Decimal("0.01"))
    if amount == 0:
        amount = abs(amount)  # never "-0.00"
    text = f"{abs(amount):,.2f}"
    if amount < 0:
        return format_html('<span class="credit text-danger text-nowrap">-{}</span>', text)
    if signed and amount > 0:
        text = "+" + text
    return format_html('<span class="credit text-nowrap">{}</span>', text)


@register.filter
def when(moment):
    return format_when(moment)


@register.filter
def when_full(moment):
    return format_when(moment, seconds=True)


@register.filter
def credit(value):
    return format_credit(value)


@register.filter
def credit_signed(value):
    return format_credit(value, signed=True)


@register.filter
def action_words(action):
    return format_html('<span title="{}">{}</span>', action or "", action_label(action))


@register.filter
def op_words(op):
    words = OP_WORDS.get(op or "", op or "")
    return format_html('<span title="{}">{}</span>', op or "", words)


@register.filter
def feed_words(feed):
    return op_words(feed)


@register.filter
def error_words(code):
    if code in (None, ""):
        return "—"
    try:
        number = int(code)
    except (TypeError, ValueError):
        return code
    words = ERROR_WORDS.get(number, "Error")
    return format_html('<span title="ERR {}">{} (ERR {})</span>', number, words, number)


@register.filter
def lag_words(seconds):
    """A lag in seconds as time: ``45 s``, ``12 min``, ``3 h 5 min``, ``2 days``."""
    if seconds in (None, ""):
        return "—"
    if isinstance(seconds, timedelta):
        seconds = seconds.total_seconds()
    total = int(float(seconds))
    if total < 60:
        return f"{total} s"
    if total < 3600:
        return f"{total // 60} min"
    if total < 86400:
        hours, minutes = divmod(total // 60, 60)
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days = total // 86400
    return f"{days} day" if days == 1 else f"{days} days"


@register.simple_tag
def zone_note():
    """``Times in Asia/Jakarta (UTC+07:00)`` — the zone named once per page."""
    zone = timezone.get_current_timezone()
    return format_html('<span class="zone-note">Times in {}</span>', zone_label(zone))
