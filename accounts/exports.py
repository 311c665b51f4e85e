"""CSV exports, streamed through :mod:`bearsms_portal.csvfile` (formula-safe). They take
already-scoped querysets (from ``accounts.selectors``)."""

from bearsms_portal.csvfile import csv_response

from .balances import balance_of, with_balances


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
            a.credit_read_at.isoformat() if a.credit_read_at else "",
            a.created_at.isoformat(),
        ]
        for a in with_balances(queryset).iterator(chunk_size=2000)
    )
    return csv_response("accounts.csv", header, rows)


def audit_csv(queryset, filename="audit.csv"):
    header = ["created_at", "actor", "action", "account", "outcome", "error_code", "message"]
    rows = (
        [
            e.created_at.isoformat(),
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
    header = ["created_at", "account", "kind", "amount", "reason", "actor"]
    rows = (
        [e.created_at.isoformat(), e.account_username, e.kind, e.amount, e.reason, e.actor_username]
        for e in queryset.iterator(chunk_size=2000)
    )
    return csv_response(filename, header, rows)
