"""Tables of the built-in BearSMS sandbox server.

They mirror what a playSMS 1.4.8 server keeps, in the shapes the protocol exposes: datetimes that
the API lists (`dt`, `update`) are stored as the naive ``YYYY-MM-DD hh:mm:ss`` strings the server
would have written at that moment (see :mod:`.clock`), so filters and ordering behave the same way
(substring match on `dt`, lexical order = time order). Real instants (for the lifecycle tick) are
kept beside them as aware datetimes.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q


class Level(models.IntegerChoices):
    """The ``status`` of an account on the wire (the server calls level 4 "subuser")."""

    ADMIN = 2, "admin"
    USER = 3, "user"
    SUBACCOUNT = 4, "subaccount"


class SandboxUser(models.Model):
    """A playSMS account (tblUser + its webservices, credit and configuration fields)."""

    username = models.CharField(max_length=100)
    password_hash = models.CharField(max_length=200, blank=True)
    name = models.CharField(max_length=100, blank=True)
    email = models.CharField(max_length=250, blank=True)
    mobile = models.CharField(max_length=16, blank=True)
    address = models.CharField(max_length=250, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=100, blank=True)
    country = models.IntegerField(default=0)
    zipcode = models.CharField(max_length=10, blank=True)
    status = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.USER)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="subaccounts"
    )
    # The main admin (uid 1 on a real server): immune to ban and removal, refreshed by the
    # buggy credit recalculation.
    is_main_admin = models.BooleanField(default=False)
    token = models.CharField(max_length=255, blank=True, db_index=True)
    enable_webservices = models.BooleanField(default=False)
    webservices_ip = models.CharField(max_length=255, default="127.0.0.1", blank=True)
    login_key = models.CharField(max_length=64, blank=True)
    banned_at = models.DateTimeField(null=True, blank=True)
    deleted = models.BooleanField(default=False)
    # Cached credit (what cr/query/creditview show) and the ad-hoc balance used at dispatch;
    # wide enough for a server that holds more than playSMS 1.4.8's DECIMAL(13,3).
    credit = models.DecimalField(max_digits=24, decimal_places=4, default=Decimal(0))
    adhoc_credit = models.DecimalField(max_digits=24, decimal_places=4, default=Decimal(0))
    footer = models.CharField(max_length=30, blank=True)
    sender = models.CharField(max_length=16, blank=True)
    datetime_timezone = models.CharField(max_length=10, blank=True)
    language_module = models.CharField(max_length=10, blank=True)
    fwd_to_inbox = models.BooleanField(default=True)
    fwd_to_email = models.BooleanField(default=False)
    fwd_to_mobile = models.BooleanField(default=False)
    local_length = models.IntegerField(default=9)
    replace_zero = models.CharField(max_length=10, blank=True)
    last_update = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["username"], condition=Q(deleted=False), name="sandbox_live_username"
            )
        ]

    def __str__(self) -> str:
        return self.username

    @property
    def uid(self) -> int:
        return self.pk


class SenderId(models.Model):
    """An approved sender ID of an account (only these are honoured as `from`)."""

    user = models.ForeignKey(SandboxUser, on_delete=models.CASCADE, related_name="sender_ids")
    sender_id = models.CharField(max_length=16)
    approved = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.sender_id


class CreditLedger(models.Model):
    """creditadd / creditdeduct entries: the source of truth the recalculation sums."""

    user = models.ForeignKey(SandboxUser, on_delete=models.CASCADE, related_name="ledger")
    amount = models.DecimalField(max_digits=24, decimal_places=4)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.amount}"


class Rate(models.Model):
    """Per-SMS rate by destination prefix (longest matching prefix wins; no match costs 0)."""

    prefix = models.CharField(max_length=11, unique=True)
    rate = models.DecimalField(max_digits=12, decimal_places=4)

    def __str__(self) -> str:
        return f"{self.prefix}: {self.rate}"


class Queue(models.Model):
    """One `pv` call's batch (tblSMSOutgoing_queue)."""

    class State(models.IntegerChoices):
        WAITING = 0, "waiting"
        FINISHED = 1, "finished"
        CREATING = 2, "being created"
        PROCESSING = 3, "processing"

    code = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(SandboxUser, on_delete=models.CASCADE, related_name="queues")
    state = models.PositiveSmallIntegerField(choices=State.choices, default=State.CREATING)
    # "GMT+0" wall clock (see clock.py) at which the daemon may dispatch it.
    scheduled = models.CharField(max_length=19, blank=True)
    created = models.DateTimeField()

    def __str__(self) -> str:
        return self.code


class Outgoing(models.Model):
    """One destination of a queued SMS; its id is the global `smslog_id`.

    The row exists from submission (so the id is allocated then, as on the real server) but is
    visible to `ds` only once dispatched (`dt` set).
    """

    class Billing(models.TextChoices):
        NONE = "", "none"
        PENDING = "pending", "pending"
        FINAL = "final", "finalised"
        ROLLED_BACK = "rolled_back", "rolled back"

    # A high-volume log table, like playSMS's own: no FK constraints in the database (their
    # per-row triggers would triple the cost of bulk inserts), no separate index on user (the
    # (user, -dt, -id) index below serves it).
    user = models.ForeignKey(
        SandboxUser,
        on_delete=models.CASCADE,
        related_name="outgoing",
        db_index=False,
        db_constraint=False,
    )
    queue = models.ForeignKey(
        Queue, null=True, blank=True, on_delete=models.SET_NULL, db_constraint=False
    )
    src = models.CharField(max_length=100, blank=True)
    dst = models.CharField(max_length=100)
    msg = models.TextField(blank=True)
    footer = models.CharField(max_length=30, blank=True)
    unicode = models.SmallIntegerField(default=0)
    sms_type = models.CharField(max_length=100, default="text")
    charge = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal(0))
    billing = models.CharField(max_length=12, choices=Billing.choices, blank=True, default="")
    dt = models.CharField(max_length=19, null=True, blank=True)  # dispatch time, GMT+0
    update = models.CharField(max_length=19, default="0000-00-00 00:00:00")
    status = models.SmallIntegerField(default=0)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    # The final delivery report has been applied (nothing more will change the row).
    dlr_final = models.BooleanField(default=False, db_default=False)
    deleted = models.BooleanField(default=False)

    class Meta:
        indexes = [
            # `ds`: own rows, newest dispatch first; `dt` windows as ranges of this index.
            models.Index(fields=["user", "-dt", "-id"], name="sandbox_out_user_dt"),
            # `ds?last=N`: the rows above N, found without walking the whole history.
            models.Index(fields=["user", "id"], name="sandbox_out_user_id"),
            # The lifecycle tick: rows still waiting for a delivery report.
            models.Index(
                fields=["dispatched_at"], name="sandbox_out_dlr_due", condition=Q(dlr_final=False)
            ),
        ]

    def __str__(self) -> str:
        return f"smslog {self.pk} to {self.dst}"


class Incoming(models.Model):
    """An incoming SMS (tblSMSIncoming): `in` lists handled rows, `sx` unhandled ones."""

    class State(models.IntegerChoices):
        RECEIVED = 0, "received, not processed yet"
        HANDLED = 1, "handled by a keyword"
        UNHANDLED = 2, "unhandled (sandbox)"
        DROPPED = 3, "dropped (stoplisted sender)"

    owner = models.ForeignKey(SandboxUser, null=True, on_delete=models.SET_NULL)
    src = models.CharField(max_length=100, blank=True)
    dst = models.CharField(max_length=100, blank=True)
    kwd = models.CharField(max_length=100, blank=True)
    msg = models.TextField(blank=True)
    raw = models.TextField(blank=True)
    smsc = models.CharField(max_length=100, blank=True)
    dt = models.CharField(max_length=19, blank=True)
    state = models.PositiveSmallIntegerField(choices=State.choices, default=State.RECEIVED)
    received_at = models.DateTimeField()
    deleted = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["owner", "state", "-dt"], name="sandbox_in_owner"),
            models.Index(fields=["state", "-dt"], name="sandbox_in_state"),
            models.Index(fields=["owner", "state", "id"], name="sandbox_in_owner_id"),
            models.Index(fields=["state", "id"], name="sandbox_in_state_id"),
        ]

    def __str__(self) -> str:
        return f"incoming {self.pk} from {self.src}"


class Inbox(models.Model):
    """A message in an account's web inbox (`ix`): `@user` messages and routed incoming SMS."""

    user = models.ForeignKey(SandboxUser, on_delete=models.CASCADE, related_name="inbox")
    src = models.CharField(max_length=100, blank=True)
    dst = models.CharField(max_length=100, blank=True)
    msg = models.TextField(blank=True)
    dt = models.CharField(max_length=19)
    deleted = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["user", "-dt"], name="sandbox_inbox_user"),
            models.Index(fields=["user", "id"], name="sandbox_inbox_user_id"),
        ]

    def __str__(self) -> str:
        return f"inbox {self.pk} of {self.user_id}"


class Keyword(models.Model):
    """A feature keyword (autoreply, poll, inbox group, ...) owned by an account."""

    class Feature(models.TextChoices):
        AUTOREPLY = "autoreply", "autoreply"
        INBOX = "inbox", "inbox group"
        POLL = "poll", "poll"
        BOARD = "board", "board"
        CUSTOM = "custom", "custom"

    keyword = models.CharField(max_length=100, unique=True)  # stored uppercase
    owner = models.ForeignKey(SandboxUser, on_delete=models.CASCADE, related_name="keywords")
    feature = models.CharField(max_length=20, choices=Feature.choices)

    def __str__(self) -> str:
        return self.keyword


class AutoreplyScenario(models.Model):
    """`KEYWORD PARAM` → reply text; an autoreply keyword is handled only with a scenario."""

    keyword = models.ForeignKey(Keyword, on_delete=models.CASCADE, related_name="scenarios")
    param = models.CharField(max_length=100)  # stored uppercase
    reply = models.TextField()

    def __str__(self) -> str:
        return f"{self.keyword_id} {self.param}"


class PhonebookGroup(models.Model):
    owner = models.ForeignKey(SandboxUser, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(max_length=100)
    code = models.CharField(max_length=100)
    flag_sender = models.SmallIntegerField(default=0)  # 0 owner, 1 members, 2 everyone

    def __str__(self) -> str:
        return self.code


class Contact(models.Model):
    owner = models.ForeignKey(SandboxUser, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=100)
    mobile = models.CharField(max_length=100)
    email = models.CharField(max_length=250, blank=True)
    tags = models.CharField(max_length=250, blank=True)
    groups = models.ManyToManyField(PhonebookGroup, related_name="contacts", blank=True)

    def __str__(self) -> str:
        return self.name


class StoplistEntry(models.Model):
    """A blocked number (duplicates are possible, as on the real server)."""

    mobile = models.CharField(max_length=100, db_index=True)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.mobile


class FirewallAttempt(models.Model):
    """Failed authentication counter per caller IP (brute-force detection)."""

    ip = models.CharField(max_length=64, unique=True)
    count = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.ip}: {self.count}"


class FirewallBlock(models.Model):
    """A blacklisted caller IP: every token and password auth from it fails."""

    ip = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.ip


class WebSession(models.Model):
    """A logged-in web session created by a successful `ws_login` (the PHPSESSID cookie)."""

    session_id = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(SandboxUser, on_delete=models.CASCADE)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"session of {self.user_id}"


class FaultRule(models.Model):
    """Fault switches for one op (`*` = every op), set from the staff page or tests."""

    op = models.CharField(max_length=50, unique=True)
    latency_ms = models.PositiveIntegerField(default=0)
    http500 = models.FloatField(default=0)
    garbage = models.FloatField(default=0)
    html_error = models.FloatField(default=0)
    hang = models.FloatField(default=0)
    lost_reply = models.FloatField(default=0)
    applied_500 = models.FloatField(default=0)

    def __str__(self) -> str:
        return f"faults for {self.op}"


class FaultCounter(models.Model):
    """Calls seen per op, so fault decisions are a pure function of (seed, op, call number)."""

    op = models.CharField(max_length=50, unique=True)
    calls = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.op}: {self.calls}"


class TickState(models.Model):
    """When the lifecycle last recalculated credit (one row)."""

    last_recalc = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"last recalculation {self.last_recalc}"


class RequestLog(models.Model):
    """Every call: op, parameters with secrets removed, time, result code, HTTP status."""

    op = models.CharField(max_length=50, db_index=True)
    method = models.CharField(max_length=10)
    params = models.JSONField(default=dict)
    username = models.CharField(max_length=100, blank=True)
    ip = models.CharField(max_length=64, blank=True)
    http_status = models.PositiveSmallIntegerField(default=200)
    result = models.CharField(max_length=20, blank=True)
    fault = models.CharField(max_length=20, blank=True)
    profile = models.CharField(max_length=30, blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    duration_ms = models.FloatField(default=0)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.op} {self.http_status} {self.result}"
