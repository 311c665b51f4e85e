"""Local copies of outgoing, incoming, inbox and sandbox messages, and the sync that fills them.

The message copies and their daily counts are written only by the sync (:mod:`messaging.sync`,
through :mod:`messaging.store`; design rule 4: the sync is a cursor) and the
``rebuild_daily_stats`` repair command. Pages read them through :mod:`messaging.selectors`, so
they never wait on the remote API.

- :class:`SyncCursor` — one row per (account, feed): the last server id stored, the late-row
  sweep watermark, and the health of the last pulls.
- :class:`OutgoingMessage` — ``ds`` rows (unique per account + ``smslog_id``).
- :class:`IncomingMessage` — ``in`` and ``ix`` rows (unique per account + feed + id).
- :class:`SandboxMessage` — ``sx`` rows: unhandled incoming SMS of all accounts (operators only).
- :class:`DailyStat` — per account and day counts maintained by the sync (the dashboard never
  counts the message tables).
- :class:`Export` — a background CSV/XLSX export with its progress.
- :class:`Send` and :class:`SendDestination` — messages sent through the portal, one row per
  destination written before any API call (written by ``messaging.services.sending`` only).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import FormKeyed
from bearsms_portal.bearsms import DeliveryStatus


class Feed(models.TextChoices):
    OUTGOING = "ds", "Outgoing"
    INCOMING = "in", "Incoming"
    INBOX = "ix", "Inbox"
    SANDBOX = "sx", "Sandbox"


#: (value, label) of each server delivery status (the client's enum), for fields and filters.
DELIVERY_STATUS_CHOICES = [(status.value, status.label) for status in DeliveryStatus]
NON_FINAL_STATUSES = tuple(status for status in DeliveryStatus if not status.is_final)


class NamedLease(models.Model):
    """A lease by name, when there is no Redis (:func:`messaging.locks.named_lock`)."""

    name = models.CharField(max_length=200, primary_key=True)
    lock_token = models.CharField(max_length=100, blank=True, default="")
    locked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


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

    # The lease of the pull running now, when there is no Redis (messaging.locks.DatabaseLease).
    lock_token = models.CharField(max_length=100, blank=True, default="")
    locked_until = models.DateTimeField(null=True, blank=True)

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
        choices=DELIVERY_STATUS_CHOICES, default=DeliveryStatus.PENDING.value
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
                condition=Q(status__in=[s.value for s in NON_FINAL_STATUSES]),
            ),
            # the Destination (prefix) filter; text search: a trigram index on PostgreSQL
            # (migration 0002)
            models.Index(fields=["dst"], name="msg_out_dst", opclasses=["varchar_pattern_ops"]),
            # the sorts of the list (messaging.tables.SORTS)
            models.Index(fields=["smslog_id", "id"], name="msg_out_id"),
            models.Index(fields=["src", "dispatched_at", "id"], name="msg_out_src_sort"),
            models.Index(fields=["dst", "dispatched_at", "id"], name="msg_out_dst_sort"),
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
        return DeliveryStatus(self.status).is_final


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
            # the sorts of the list (messaging.tables.SORTS)
            models.Index(fields=["feed", "server_id", "id"], name="msg_in_id"),
            models.Index(fields=["feed", "src", "received_at", "id"], name="msg_in_src_sort"),
            models.Index(fields=["feed", "dst", "received_at", "id"], name="msg_in_dst_sort"),
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
        indexes = [
            models.Index(fields=["received_at", "id"], name="msg_sx_time"),
            models.Index(fields=["src", "received_at", "id"], name="msg_sx_src_sort"),
            models.Index(fields=["dst", "received_at", "id"], name="msg_sx_dst_sort"),
        ]

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
    started_at = models.DateTimeField(null=True, blank=True)
    # Written with every progress update: a running export without one for a while has lost
    # its worker (messaging.services.exports.sweep_dead_exports).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "user"], name="export_state_user")]

    def __str__(self) -> str:
        return f"export {self.pk} {self.feed}.{self.format} {self.state}"

    @property
    def progress(self) -> int:
        if self.state == self.State.DONE:
            return 100
        if not self.rows_expected:
            return 0
        return min(99, int(100 * self.rows_done / self.rows_expected))


# --- sending through the portal ------------------------------------------------------------------


class Send(FormKeyed):
    """One message sent through the portal as one account to many destinations: typed on the
    compose page, uploaded as a file (bulk), or given to ``manage.py send``.

    Written with all its :class:`SendDestination` rows before any API call; the submission
    (``messaging.services.sending``) then moves each destination on. The summary of a send is
    the count of its destinations per state (:func:`messaging.selectors.send_summary`).
    ``form_key`` (:class:`~accounts.models.FormKeyed`): the compose form sent twice is one send.
    """

    sender_field = "created_by"

    class Source(models.TextChoices):
        COMPOSE = "compose", "Compose page"
        FILE = "file", "File upload"
        COMMAND = "command", "Command line"

    class State(models.TextChoices):
        # A bulk file being mapped and checked; nothing is submitted before it is confirmed.
        DRAFT = "draft", "Draft"
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        PAUSED = "paused", "Paused"
        # Cancelled: what was not submitted never will be (its destinations are cancelled).
        CANCELLED = "cancelled", "Cancelled"
        # Every destination has left "queued"/"sending" (some may still be outcome unknown).
        DONE = "done", "Done"
        # Nothing could be submitted (account not linked, banned, credentials refused…).
        FAILED = "failed", "Failed"

    class MessageType(models.TextChoices):
        TEXT = "text", "Text"
        FLASH = "flash", "Flash"

    class Encoding(models.TextChoices):
        GSM7 = "gsm7", "GSM-7"
        UCS2 = "ucs2", "UCS-2 (Unicode)"

    account = models.ForeignKey(
        "accounts.BearSMSAccount", on_delete=models.PROTECT, related_name="sends"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sends",
    )
    created_by_username = models.CharField(max_length=150, blank=True)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.COMPOSE)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)

    # The message. For a file send, ``text`` may hold {column} fields and each destination
    # carries its own text (SendDestination.text).
    text = models.TextField()
    sender = models.CharField(max_length=16, blank=True, help_text="Sender ID asked for.")
    footer = models.BooleanField(default=True, help_text="Append the account's footer.")
    message_type = models.CharField(
        max_length=5, choices=MessageType.choices, default=MessageType.TEXT
    )
    encoding = models.CharField(max_length=4, choices=Encoding.choices, default=Encoding.GSM7)
    segments = models.PositiveIntegerField(default=1, help_text="Segments per message.")

    # Scheduled: the instant the user picked (the server is asked for it with `schedule`, in
    # the zone it reads schedules in for this account), and the zone it was picked in.
    scheduled_for = models.DateTimeField(null=True, blank=True, db_index=True)
    scheduled_zone = models.CharField(max_length=64, blank=True)

    # What the recipients entry or file held, before the destinations were written.
    entries_total = models.PositiveIntegerField(default=0)
    duplicates_dropped = models.PositiveIntegerField(default=0)
    invalid_entries = models.PositiveIntegerField(default=0)
    # Destinations written (= rows of SendDestination without a group parent).
    destinations_total = models.PositiveIntegerField(default=0)
    # Requests in flight at once while submitting (SEND_CONCURRENCY when created).
    concurrency = models.PositiveSmallIntegerField(default=8)

    # A bulk send's file and its column mapping (number column, {field} columns).
    source_file = models.FileField(upload_to="sends/%Y/%m/", blank=True)
    source_name = models.CharField(max_length=255, blank=True)
    mapping = models.JSONField(default=dict, blank=True)

    warnings = models.JSONField(default=list, blank=True, help_text="Shown on the send page.")
    error = models.TextField(blank=True, help_text="Why the send failed as a whole.")
    audit_entry = models.ForeignKey(
        "accounts.AuditEntry", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Last time a submitter moved a destination (a stalled send is picked up again by beat).
    progress_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "created_at"], name="msg_send_acct_time"),
            models.Index(fields=["state"], name="msg_send_state"),
        ]

    def __str__(self) -> str:
        return f"send {self.pk} as {self.account_id} ({self.state})"

    @property
    def is_scheduled(self) -> bool:
        return self.scheduled_for is not None

    @property
    def is_active(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.SENDING)


class SendDestination(models.Model):
    """One destination of a :class:`Send`: written before any API call, then claimed (state
    ``sending``) in the database before its request leaves, so it is submitted at most once.

    ``queued`` → ``sending`` → ``submitted`` (``smslog_id``, ``queue``) | ``refused``
    (``reason``) | ``unknown`` (the request left and no answer came back) → resolved through
    ``ds`` (``submitted``, with ``resolution``) or by hand. A ``#group`` destination, once
    submitted, gets one member row per number the server queued (``group`` points to it).
    """

    class Kind(models.TextChoices):
        NUMBER = "number", "Number"
        USER = "user", "@user"
        GROUP = "group", "#group"
        MEMBER = "member", "Group member"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SUBMITTED = "submitted", "Submitted"
        REFUSED = "refused", "Refused"
        UNKNOWN = "unknown", "Outcome unknown"
        CANCELLED = "cancelled", "Cancelled"

    send = models.ForeignKey(Send, on_delete=models.CASCADE, related_name="destinations")
    # Order in the recipients entry or the file (bulk: the file's row number).
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=6, choices=Kind.choices, default=Kind.NUMBER)
    # What is sent as `to`: international digits, @username or #groupcode.
    address = models.CharField(max_length=100)
    # How the user typed it (or the file's cell), for the page and the bad-row report.
    entered = models.CharField(max_length=100, blank=True)
    # The personalised text of a file send ({fields} filled in); empty: the send's text.
    text = models.TextField(blank=True)
    group = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="members"
    )

    state = models.CharField(max_length=9, choices=State.choices, default=State.QUEUED)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    smslog_id = models.BigIntegerField(null=True, blank=True)
    queue = models.CharField(max_length=64, blank=True)
    # The number as the server normalised it (its reply's `to`).
    server_to = models.CharField(max_length=40, blank=True)
    reason = models.TextField(blank=True, help_text="Why it was refused or is unknown.")
    # How an unknown outcome was settled ("found in ds", "resent by hand by …").
    resolution = models.CharField(max_length=200, blank=True)
    resolve_attempts = models.PositiveSmallIntegerField(default=0)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [
            models.Index(fields=["send", "state", "id"], name="msg_dest_send_state"),
            models.Index(fields=["state", "claimed_at"], name="msg_dest_state_claim"),
            models.Index(fields=["smslog_id"], name="msg_dest_smslog"),
        ]
        constraints = [
            # A destination is written once per send (duplicates are dropped before).
            models.UniqueConstraint(
                fields=["send", "address"],
                condition=Q(group__isnull=True),
                name="msg_dest_send_address",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.address} ({self.state})"

    @property
    def body(self) -> str:
        return self.text or self.send.text


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
    rows_duplicate = models.BigIntegerField(default=0, help_text="Counted in rows_bad too.")
    # Bumped by every mapping: a check still running for an older mapping stops writing.
    revision = models.PositiveIntegerField(default=0)
    segments_total = models.BigIntegerField(default=0, help_text="SMS segments of good rows.")
    segments_max = models.PositiveIntegerField(default=0)
    unicode = models.BooleanField(default=False, help_text="Some good row needs UCS-2.")
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    # The send made from it, once confirmed.
    send = models.OneToOneField(
        Send, null=True, blank=True, on_delete=models.SET_NULL, related_name="recipient_file"
    )

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
