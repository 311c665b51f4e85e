"""Local copies of outgoing, incoming, inbox and sandbox messages, and the sync that fills them.

Only :mod:`messaging.sync` writes these tables (design rule 4: the sync is a cursor). Pages read
them through :mod:`messaging.selectors`, so they never wait on the remote API.

- :class:`SyncCursor` — one row per (account, feed): the last server id stored, the late-row
  sweep watermark, and the health of the last pulls.
- :class:`OutgoingMessage` — ``ds`` rows (unique per account + ``smslog_id``).
- :class:`IncomingMessage` — ``in`` and ``ix`` rows (unique per account + feed + id).
- :class:`SandboxMessage` — ``sx`` rows: unhandled incoming SMS of all accounts (operators only).
- :class:`DailyStat` — per account and day counts maintained by the sync (the dashboard never
  counts the message tables).
- :class:`Export` — a background CSV/XLSX export with its progress.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Feed(models.TextChoices):
    OUTGOING = "ds", "Outgoing"
    INCOMING = "in", "Incoming"
    INBOX = "ix", "Inbox"
    SANDBOX = "sx", "Sandbox"


class DeliveryStatus(models.IntegerChoices):
    PENDING = 0, "Pending"
    SENT = 1, "Sent"
    FAILED = 2, "Failed"
    DELIVERED = 3, "Delivered"


NON_FINAL_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.SENT)


class SyncCursor(models.Model):
    """Where the sync of one (account, feed) stands, and how its pulls went.

    ``account`` is empty for the ``sx`` feed, which is read with the admin credentials and
    belongs to no single account.
    """

    account = models.ForeignKey(
        "accounts.BearSMSAccount",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sync_cursors",
    )
    feed = models.CharField(max_length=2, choices=Feed.choices)
    # Every server row with an id <= last_id is stored locally.
    last_id = models.BigIntegerField(default=0)
    # Late-row sweep: rows whose server time (raw, in the server's own frame) is >= this are
    # re-read on the next sweep, whatever their id. Empty: not started yet.
    sweep_from = models.CharField(max_length=19, blank=True, default="")
    swept_at = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    # Health.
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_rows = models.PositiveIntegerField(default=0)
    rows_pulled = models.BigIntegerField(default=0)
    newest_at = models.DateTimeField(null=True, blank=True, help_text="Newest row stored.")
    last_error = models.CharField(max_length=300, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    next_pull_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "feed"], name="msg_cursor_account_feed"),
            models.UniqueConstraint(
                fields=["feed"], condition=Q(account__isnull=True), name="msg_cursor_admin_feed"
            ),
        ]
        ordering = ["account__username", "feed"]

    def __str__(self) -> str:
        owner = self.account.username if self.account_id else "(admin)"
        return f"{owner}/{self.feed}"

    @property
    def label(self) -> str:
        return str(self)


class OutgoingMessage(models.Model):
    """A ``ds`` row: one dispatched SMS and its latest known delivery status."""

    account = models.ForeignKey(
        "accounts.BearSMSAccount", on_delete=models.CASCADE, related_name="outgoing_messages"
    )
    smslog_id = models.BigIntegerField()
    src = models.CharField("sender", max_length=100, blank=True)
    dst = models.CharField("destination", max_length=40, blank=True)
    text = models.TextField(blank=True)
    status = models.PositiveSmallIntegerField(
        choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    dispatched_at = models.DateTimeField()
    status_changed_at = models.DateTimeField(null=True, blank=True)
    # The dispatch time exactly as the server wrote it (its own frame): the status refresh asks
    # for rows by this value with the server's ``dt`` substring filter.
    server_dt = models.CharField(max_length=19, blank=True)
    synced_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "smslog_id"], name="msg_out_account_id"),
        ]
        indexes = [
            models.Index(fields=["dispatched_at", "id"], name="msg_out_time"),
            models.Index(fields=["account", "dispatched_at", "id"], name="msg_out_acct_time"),
            models.Index(fields=["status", "dispatched_at", "id"], name="msg_out_status_time"),
            models.Index(
                fields=["account", "server_dt"],
                name="msg_out_nonfinal",
                condition=Q(status__in=[0, 1]),
            ),
            # the Destination (prefix) and Sender filters; text search: a trigram index on
            # PostgreSQL (migration 0002)
            models.Index(fields=["dst"], name="msg_out_dst", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["src", "dispatched_at"], name="msg_out_src_time"),
        ]

    def __str__(self) -> str:
        return f"ds#{self.smslog_id} → {self.dst}"

    @property
    def feed(self) -> str:
        return Feed.OUTGOING

    @property
    def server_id(self) -> int:
        return self.smslog_id

    @property
    def is_final(self) -> bool:
        return self.status not in NON_FINAL_STATUSES


class IncomingMessage(models.Model):
    """An ``in`` row (handled by one of the account's keywords) or an ``ix`` (inbox) row."""

    account = models.ForeignKey(
        "accounts.BearSMSAccount", on_delete=models.CASCADE, related_name="incoming_messages"
    )
    feed = models.CharField(
        max_length=2, choices=[(Feed.INCOMING.value, "Incoming"), (Feed.INBOX.value, "Inbox")]
    )
    server_id = models.BigIntegerField()
    src = models.CharField("sender", max_length=100, blank=True)
    dst = models.CharField("destination", max_length=40, blank=True)
    keyword = models.CharField(max_length=100, blank=True)
    text = models.TextField(blank=True)
    received_at = models.DateTimeField()
    server_dt = models.CharField(max_length=19, blank=True)
    synced_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "feed", "server_id"], name="msg_in_account_feed_id"
            ),
        ]
        indexes = [
            models.Index(fields=["feed", "received_at", "id"], name="msg_in_time"),
            models.Index(fields=["account", "feed", "received_at", "id"], name="msg_in_acct_time"),
            models.Index(fields=["src", "received_at"], name="msg_in_src_time"),
        ]

    def __str__(self) -> str:
        return f"{self.feed}#{self.server_id} ← {self.src}"


class SandboxMessage(models.Model):
    """An ``sx`` row: an incoming SMS no keyword handled, on any account (operators only)."""

    server_id = models.BigIntegerField(unique=True)
    src = models.CharField("sender", max_length=100, blank=True)
    dst = models.CharField("destination", max_length=40, blank=True)
    text = models.TextField(blank=True)
    received_at = models.DateTimeField()
    server_dt = models.CharField(max_length=19, blank=True)
    synced_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["received_at", "id"], name="msg_sx_time")]

    def __str__(self) -> str:
        return f"sx#{self.server_id} ← {self.src}"

    @property
    def feed(self) -> str:
        return Feed.SANDBOX


class DailyStat(models.Model):
    """Message counts of one account on one day, kept up to date by the sync.

    ``sent`` counts every outgoing row dispatched that day; ``pending``/``delivered``/``failed``
    split them by their current status (``sent`` = pending + sent-status + delivered + failed);
    ``incoming`` counts ``in`` and ``ix`` rows received that day.
    """

    account = models.ForeignKey(
        "accounts.BearSMSAccount", on_delete=models.CASCADE, related_name="daily_stats"
    )
    day = models.DateField()
    sent = models.BigIntegerField(default=0)
    pending = models.BigIntegerField(default=0)
    accepted = models.BigIntegerField(default=0, help_text="Status 'sent' (no final report yet).")
    delivered = models.BigIntegerField(default=0)
    failed = models.BigIntegerField(default=0)
    incoming = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "day"], name="msg_daily_account_day"),
        ]
        indexes = [models.Index(fields=["day"], name="msg_daily_day")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day}"


class Export(models.Model):
    """A CSV/XLSX export running in the background, with its progress and its file."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel (XLSX)"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="message_exports"
    )
    feed = models.CharField(max_length=2, choices=Feed.choices)
    format = models.CharField(max_length=4, choices=Format.choices)
    query = models.TextField(blank=True, help_text="The list filters, as a query string.")
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    rows_expected = models.BigIntegerField(default=0)
    rows_done = models.BigIntegerField(default=0)
    file_name = models.CharField(max_length=200, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"export {self.pk} {self.feed}.{self.format} {self.state}"

    @property
    def progress(self) -> int:
        if self.state == self.State.DONE:
            return 100
        if not self.rows_expected:
            return 0
        return min(99, int(100 * self.rows_done / self.rows_expected))


class RecipientFile(models.Model):
    """A CSV/XLSX file of recipients for a bulk send: the upload, its mapping and its check.

    The file itself is kept on disk (``MEDIA_ROOT/uploads/``), never in the database; the check
    writes one :class:`RecipientRow` per data row, so the preview, the bad-row report and the
    send read rows from the table instead of parsing the file again.
    """

    class State(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded"
        CHECKING = "checking", "Checking rows"
        CHECKED = "checked", "Checked"
        SENDING = "sending", "Sent to the queue"
        FAILED = "failed", "Unreadable"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recipient_files"
    )
    account = models.ForeignKey(
        "accounts.BearSMSAccount", on_delete=models.CASCADE, related_name="recipient_files"
    )
    name = models.CharField(max_length=200, help_text="The file name as uploaded.")
    stored_name = models.CharField(max_length=100, editable=False)
    format = models.CharField(max_length=4)
    size = models.BigIntegerField(default=0)
    state = models.CharField(max_length=8, choices=State.choices, default=State.UPLOADED)
    # The mapping.
    header = models.BooleanField(default=True)
    number_column = models.PositiveSmallIntegerField(default=0)
    columns = models.JSONField(default=list, help_text="Field names, one per column.")
    text = models.TextField(blank=True)
    options = models.JSONField(
        default=dict, blank=True, help_text="Sender, footer, flash, schedule: as for a send."
    )
    # The check.
    rows_read = models.BigIntegerField(default=0)
    rows_good = models.BigIntegerField(default=0)
    rows_bad = models.BigIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_state_display()})"


class RecipientRow(models.Model):
    """One data row of a checked :class:`RecipientFile`: the recipient, or why it is refused."""

    file = models.ForeignKey(RecipientFile, on_delete=models.CASCADE, related_name="rows")
    row = models.PositiveIntegerField(help_text="Row number as a spreadsheet shows it.")
    number = models.CharField(max_length=20, blank=True, help_text="International digits.")
    value = models.CharField(max_length=100, blank=True, help_text="The number cell as typed.")
    text = models.TextField(blank=True, help_text="The message with its fields filled.")
    reason = models.CharField(max_length=200, blank=True, help_text="Empty for a good row.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["file", "row"], name="msg_recipient_file_row"),
        ]

    def __str__(self) -> str:
        return f"row {self.row}: {self.number or self.value}"
