"""CSV exports, streamed through :mod:`bearsms_portal.csvfile` (formula-safe). They take
already-scoped querysets (from ``accounts.selectors``)."""

from django.utils import timezone

from bearsms_portal.csvfile import csv_response

from .balances import balance_of, with_balances


def _zoned(header: list[str]) -> tuple[list[str], object]:
    """The header, whose time columns name the zone their values are in — the user's, active
    now (``accounts.zones``) — and a function writing a time in it. The zone is read here, at
    the call: the rows are written while the response streams, after the request is over."""
    zone = timezone.get_current_timezone()

    def when(value) -> str:  # ISO 8601 with its offset: still exact for a program
        return timezone.localtime(value, zone).isoformat(timespec="seconds") if value else ""

    return [f"{name} ({zone.key})" if name.endswith("_at") else name for name in header], when


def accounts_csv(queryset):
    header = [
        "username",
        "level",
        "parent",
        "name",
        "email",
        "mobile",
        "status",
        "linked",
        "balance",
        "server_cached_credit",
        "server_cached_credit_unreliable",
        "credit_read_at",
        "created_at",
    ]
    header, when = _zoned(header)
    rows = (
        [
            a.username,
            a.get_level_display(),
            a.parent.username if a.parent else "",
            a.name,
            a.email,
            a.mobile,
            a.status,
            "yes" if a.is_linked else "no",
            balance_of(a).balance,
            a.credit,
            "yes" if a.credit_unreliable else "no",
            when(a.credit_read_at),
            when(a.created_at),
        ]
        for a in with_balances(queryset).iterator(chunk_size=2000)
    )
    return csv_response("accounts.csv", header, rows)


def audit_csv(queryset, filename="audit.csv"):
    header, when = _zoned(
        ["created_at", "actor", "action", "account", "outcome", "error_code", "message"]
    )
    rows = (
        [
            when(e.created_at),
            e.actor_username,
            e.action,
            e.subject,
            e.outcome,
            e.error_code,
            e.message,
        ]
        for e in queryset.iterator(chunk_size=2000)
    )
    return csv_response(filename, header, rows)


def ledger_csv(queryset, filename="ledger.csv"):
    header, when = _zoned(["created_at", "account", "kind", "amount", "reason", "actor"])
    rows = (
        [when(e.created_at), e.account_username, e.kind, e.amount, e.reason, e.actor_username]
        for e in queryset.iterator(chunk_size=2000)
    )
    return csv_response(filename, header, rows)
