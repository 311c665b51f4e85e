"""django-tables2 tables of the accounts pages (sortable; exports are in ``accounts.exports``)."""

import django_tables2 as tables
from django.utils.html import format_html

from bearsms_portal.templatetags.portal_format import (
    action_words,
    error_words,
    format_credit,
    format_when,
)

from .balances import balance_of
from .models import AuditEntry, BearSMSAccount, CreditLedgerEntry


class AccountTable(tables.Table):
    username = tables.Column(linkify=("accounts:detail", {"pk": tables.A("pk")}))
    level = tables.Column()
    parent = tables.Column(
        verbose_name="Reseller", accessor="parent__username", order_by=("parent__username",)
    )
    status = tables.Column()
    # Ordered by the ciphertext's emptiness only; the value itself is never rendered.
    linked = tables.Column(
        accessor="token_encrypted",
        verbose_name="Linked",
        order_by=("token_encrypted",),
        empty_values=(),
    )
    balance = tables.Column(verbose_name="Balance", empty_values=(), orderable=False)
    credit = tables.Column(verbose_name="Server's cache")

    class Meta:
        model = BearSMSAccount
        fields = (
            "username",
            "level",
            "parent",
            "name",
            "email",
            "status",
            "linked",
            "balance",
            "credit",
            "credit_read_at",
        )
        attrs = {"class": "table table-sm table-hover align-middle bg-white"}
        template_name = "django_tables2/bootstrap5-responsive.html"
        order_by = ("username",)
        empty_text = "No accounts match."

    def render_status(self, value, record):
        css = "danger" if record.is_banned else "success"
        return format_html('<span class="badge text-bg-{}">{}</span>', css, value)

    def render_linked(self, record):
        css, label = ("success", "linked") if record.is_linked else ("warning", "not linked")
        return format_html('<span class="badge text-bg-{}">{}</span>', css, label)

    def render_balance(self, record):
        return format_credit(balance_of(record).balance)

    def render_credit(self, value, record):
        if record.credit_unreliable:
            return format_html(
                '{} <span class="badge text-bg-warning" title="{}">unreliable</span>',
                format_credit(value),
                record.credit_note,
            )
        return format_credit(value)

    def render_credit_read_at(self, value):
        return format_when(value)


class AuditTable(tables.Table):
    created_at = tables.DateTimeColumn(verbose_name="When")
    target_username = tables.Column(verbose_name="Account or number", empty_values=())
    error_code = tables.Column(verbose_name="Error")

    class Meta:
        model = AuditEntry
        fields = (
            "created_at",
            "actor_username",
            "action",
            "target_username",
            "outcome",
            "error_code",
            "message",
        )
        attrs = {"class": "table table-sm table-hover align-middle bg-white"}
        template_name = "django_tables2/bootstrap5-responsive.html"
        empty_text = "No audit entries match."

    def render_created_at(self, value):
        return format_when(value, seconds=True)

    def render_action(self, value):
        return action_words(value)

    def render_target_username(self, value, record):
        """The account acted on; for the server-wide tools (stoplist, inject), the number."""
        return record.subject or "—"

    def render_error_code(self, value):
        return error_words(value)

    def render_outcome(self, value, record):
        css = {"success": "success", "failure": "danger", "refused": "secondary"}.get(
            record.outcome, "warning"
        )
        return format_html('<span class="badge text-bg-{}">{}</span>', css, value)


class LedgerTable(tables.Table):
    created_at = tables.DateTimeColumn(verbose_name="When")
    account_username = tables.Column(verbose_name="Account")

    class Meta:
        model = CreditLedgerEntry
        fields = ("created_at", "account_username", "kind", "amount", "reason", "actor_username")
        attrs = {"class": "table table-sm table-hover align-middle bg-white"}
        template_name = "django_tables2/bootstrap5-responsive.html"
        empty_text = "No credit moves match."

    def render_created_at(self, value):
        return format_when(value, seconds=True)

    def render_amount(self, value):
        return format_credit(value, signed=True)
