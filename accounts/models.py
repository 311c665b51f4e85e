"""Portal users, roles and the BearSMS accounts they are linked to.

- :class:`BearSMSAccount` is the local record of an account on the BearSMS server, with its
  place in the tree (admin → user, the reseller → subaccount), its last known profile,
  configuration and credit, and its own webservices token, encrypted at rest.
- :class:`PortalProfile` gives a portal (Django) user one role: operator, reseller or subaccount,
  and the user's preferences (their time zone). Staff users without a role count as operators.
- :class:`AuditEntry` and :class:`CreditLedgerEntry` are append-only records written by
  ``accounts.services``; nothing else writes them.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models

from . import countries, crypto
from .amounts import money_field


class BearSMSAccount(models.Model):
    """An account on the BearSMS server, as the portal last knew it."""

    class Level(models.IntegerChoices):
        ADMIN = 2, "Administrator"
        USER = 3, "Reseller"
        SUBACCOUNT = 4, "Subaccount"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        BANNED = "banned", "Banned"

    username = models.CharField(max_length=100, unique=True)
    level = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.USER)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="subaccounts"
    )
    name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(max_length=250, blank=True)
    mobile = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)

    # Profile fields (accountpref) the portal last set; the server has no op to read them back.
    address = models.CharField(max_length=250, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=100, blank=True)
    country = models.PositiveIntegerField(null=True, blank=True)
    zipcode = models.CharField(max_length=10, blank=True)

    # Configuration (accountconf). No op reads it back, so the portal keeps what it knows:
    # ``conf_known`` lists the fields whose server value it knows (set by the portal, or a new
    # account's documented default); the others show as unknown (see accounts.configuration).
    sender = models.CharField(max_length=100, blank=True)
    footer = models.CharField(max_length=30, blank=True)
    timezone = models.CharField(max_length=5, blank=True, help_text="+HHMM")
    language = models.CharField(max_length=20, blank=True)
    fwd_to_inbox = models.BooleanField(default=True)
    fwd_to_email = models.BooleanField(default=True)
    fwd_to_mobile = models.BooleanField(default=False)
    local_length = models.PositiveSmallIntegerField(default=9)
    replace_zero = models.CharField(max_length=10, blank=True)
    conf_known = models.JSONField(default=list, blank=True)

    # The server's cached balance as last read (creditview/query), and whether it contradicted
    # the portal's ledger in the known 1.4.8 way (see accounts.balances).
    credit = money_field(null=True, blank=True)
    credit_read_at = models.DateTimeField(null=True, blank=True)
    credit_unreliable = models.BooleanField(default=False)
    credit_note = models.CharField(max_length=250, blank=True)
    # The balance the portal trusts: this base plus its ledger moves with a higher id.
    balance_base = money_field(null=True, blank=True)
    balance_base_at = models.DateTimeField(null=True, blank=True)
    balance_base_ledger_id = models.BigIntegerField(default=0)
    # The reseller's home lists subaccounts whose available balance is at or below this.
    low_balance_threshold = money_field(default=0)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Fernet ciphertext of the account's webservices token; see accounts.crypto.
    token_encrypted = models.TextField(blank=True, default="", editable=False)
    link_error = models.TextField(blank=True, help_text="Why the account is not linked.")
    # The password the portal set (create/preferences), encrypted, kept only until linking
    # succeeds so "link now" can retry after an administrator enabled webservices.
    pending_password_encrypted = models.TextField(blank=True, default="", editable=False)
    linked_at = models.DateTimeField(null=True, blank=True)
    # The write whose outcome is not known yet (see accounts.settling): shown as "we could not
    # confirm — checking" until the server has been asked.
    unconfirmed = models.CharField(max_length=30, blank=True, default="")

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["username"]
        verbose_name = "BearSMS account"
        indexes = [models.Index(fields=["level", "status"])]

    def __str__(self) -> str:
        return self.username

    def __repr__(self) -> str:
        return f"<BearSMSAccount {self.username!r} level={self.level}>"

    # --- the token: only through these two methods, never as an attribute --------------------

    def reveal_token(self) -> str:
        """The decrypted token ('' when not linked). Never render or log it."""
        return crypto.decrypt(self.token_encrypted)

    reveal_token.do_not_call_in_templates = True

    def store_token(self, token: str) -> None:
        """Encrypt and keep ``token`` (the caller saves the model)."""
        self.token_encrypted = crypto.encrypt(token or "")

    store_token.do_not_call_in_templates = True

    @property
    def is_linked(self) -> bool:
        """The portal holds this account's token, so it can read its traffic and send as it."""
        return bool(self.token_encrypted)

    @property
    def is_banned(self) -> bool:
        return self.status == self.Status.BANNED

    @property
    def is_subaccount(self) -> bool:
        return self.level == self.Level.SUBACCOUNT

    @property
    def country_name(self) -> str:
        """The country's name for the server's numeric id ("" when none is set)."""
        return countries.name_of(self.country)


class PortalProfile(models.Model):
    """The one role of a portal user, the BearSMS account a reseller/subaccount user is, and
    the user's own preferences.

    An empty ``role`` gives no role of its own (a staff user keeps being an operator through
    the staff flag): a staff user who only sets a time zone gets such a profile, so that
    taking away the staff flag still takes away the operator role.
    """

    class Role(models.TextChoices):
        OPERATOR = "operator", "Operator"
        RESELLER = "reseller", "Reseller"
        SUBACCOUNT = "subaccount", "Subaccount"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portal_profile"
    )
    role = models.CharField(max_length=12, choices=Role.choices, blank=True)
    account = models.ForeignKey(
        BearSMSAccount,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="portal_users",
    )
    # IANA name (Europe/Paris); empty: the portal's TIME_ZONE. Read it with
    # accounts.zones.time_zone_of(user), never directly.
    time_zone = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = "portal role"

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"

    def clean(self):
        expected = {
            self.Role.RESELLER: BearSMSAccount.Level.USER,
            self.Role.SUBACCOUNT: BearSMSAccount.Level.SUBACCOUNT,
        }.get(self.role)
        if expected is None:
            if self.account_id:
                raise ValidationError({"account": "Operators are not linked to an account."})
            return
        if self.account is None:
            raise ValidationError({"account": "A reseller or subaccount user needs an account."})
        if self.account.level != expected:
            raise ValidationError(
                {
                    "account": f"A {self.get_role_display().lower()} must be linked to a "
                    f"{BearSMSAccount.Level(expected).label.lower()} account."
                }
            )


class AuditEntry(models.Model):
    """One admin action through the portal: who, what, on which account, and how it ended."""

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Success"
        FAILURE = "failure", "Failure"
        UNKNOWN = "unknown", "Outcome unknown"
        # Stopped by the portal (permission or input) before the server was asked.
        REFUSED = "refused", "Refused"
        # Written before the first API call and completed when the action ends; one left
        # pending means the process died mid-action (settled like an unknown outcome).
        PENDING = "pending", "In progress"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=30, db_index=True)
    target = models.ForeignKey(
        BearSMSAccount,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_entries",
    )
    target_username = models.CharField(max_length=100, blank=True, db_index=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    error_code = models.PositiveIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)
    # Each API call made for this action ({"op", "result", "code"}), parameters without secrets.
    details = models.JSONField(default=dict, blank=True)
    # For an unknown outcome: when the server will next be asked what happened (see
    # accounts.settling); null once settled or when there is nothing to settle.
    settle_after = models.DateTimeField(null=True, blank=True, db_index=True)
    settle_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.action} {self.target_username} {self.outcome}"

    @property
    def subject(self) -> str:
        """What the action was about: the account, else the number a server-wide tool
        (stoplist, inject) was given."""
        if self.target_username:
            return self.target_username
        params = (self.details or {}).get("params") or {}
        return str(params.get("number") or params.get("from") or params.get("sender") or "")


class CreditLedgerEntry(models.Model):
    """A credit move applied on the server through the portal, with its reason."""

    class Kind(models.TextChoices):
        ADD = "add", "Added"
        DEDUCT = "deduct", "Deducted"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    account = models.ForeignKey(
        BearSMSAccount,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ledger_entries",
    )
    account_username = models.CharField(max_length=100, db_index=True)
    kind = models.CharField(max_length=6, choices=Kind.choices)
    # Signed: positive for an add, negative for a deduction.
    amount = money_field()
    reason = models.CharField(max_length=250)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_username = models.CharField(max_length=150, blank=True)
    audit_entry = models.ForeignKey(
        AuditEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "credit ledger entry"
        verbose_name_plural = "credit ledger"

    def __str__(self) -> str:
        sign = "+" if self.amount >= Decimal(0) else ""
        return f"{self.account_username} {sign}{self.amount}"


class FormKeyed(models.Model):
    """A row that one form makes once: it keeps the form's one-time key (``accounts.idempotency``),
    unique, so the same form sent again (a double click, back and resend, two tabs at once)
    finds this row instead of making a second one. For the sagas that keep a row per attempt
    (credit transfers, sends) in place of ``once_per_key``; ``sender_field`` names the user who
    sent the form."""

    form_key = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)

    sender_field = "actor"

    class Meta:
        abstract = True

    @classmethod
    def made_by_form(cls, key: str | None, *, actor):
        """The row the form with ``key`` made, or None. Another user's key is refused."""
        if not key:
            return None
        row = cls.objects.filter(form_key=key).first()
        if row is not None and getattr(row, f"{cls.sender_field}_id") != getattr(actor, "pk", None):
            raise PermissionDenied("This form key belongs to someone else.")
        return row

    @classmethod
    def create_once(cls, key: str | None, *, actor, create):
        """``(row, True)`` with the row ``create()`` writes (checks included, in a transaction
        of its own), or ``(row, False)`` when the form with ``key`` already made one — before,
        or at the same moment (the unique key lets exactly one of two twin requests write)."""
        earlier = cls.made_by_form(key, actor=actor)
        if earlier is not None:
            return earlier, False
        try:
            return create(), True
        except IntegrityError:
            earlier = cls.made_by_form(key, actor=actor)
            if earlier is None:
                raise
            return earlier, False


class CreditTransfer(FormKeyed):
    """One credit move between two accounts, run as a saga (see ``accounts.transfers``).

    Written before the first API call; each step records what it sent and what came back, so a
    step cut short (worker killed, answer lost) is settled later by reading the server, never
    by guessing. ``form_key`` comes from the form: the same form posted twice finds this row
    again instead of moving credit twice.
    """

    class State(models.TextChoices):
        REQUESTED = "requested", "Requested"
        DEBITED = "debited", "Deducted from the source"
        CREDITED = "credited", "Added to the target"
        DONE = "done", "Done"
        COMPENSATING = "compensating", "Giving back to the source"
        REFUNDED = "refunded", "Refunded"
        ATTENTION = "attention", "Needs attention"

    class Step(models.TextChoices):
        """Where one API step stands. ``sent`` without an answer means: settle by reading."""

        NONE = "", "Not started"
        SENT = "sent", "Sent, outcome not recorded"
        APPLIED = "applied", "Applied"
        NOT_APPLIED = "not_applied", "Not applied"
        UNKNOWN = "unknown", "Outcome unknown"

    FINAL_STATES = (State.DONE, State.REFUNDED)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    source = models.ForeignKey(BearSMSAccount, on_delete=models.PROTECT, related_name="+")
    target = models.ForeignKey(BearSMSAccount, on_delete=models.PROTECT, related_name="+")
    source_username = models.CharField(max_length=100)
    target_username = models.CharField(max_length=100)
    amount = money_field()
    reason = models.CharField(max_length=250)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_username = models.CharField(max_length=150, blank=True)
    state = models.CharField(
        max_length=12, choices=State.choices, default=State.REQUESTED, db_index=True
    )
    # Each API step: creditdeduct on the source, creditadd on the target, the give-back
    # (creditadd on the source). ``*_before`` is the server figure read just before sending.
    debit = models.CharField(max_length=12, choices=Step.choices, blank=True, default="")
    debit_before = money_field(null=True, blank=True)
    debit_sent_at = models.DateTimeField(null=True, blank=True)
    credit = models.CharField(max_length=12, choices=Step.choices, blank=True, default="")
    credit_before = money_field(null=True, blank=True)
    credit_sent_at = models.DateTimeField(null=True, blank=True)
    refund = models.CharField(max_length=12, choices=Step.choices, blank=True, default="")
    refund_before = money_field(null=True, blank=True)
    refund_sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Every server answer and every reading, in order ({"at", "step", "op", "result", ...}).
    log = models.JSONField(default=list, blank=True)
    attention_reason = models.TextField(blank=True)
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    settled_note = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "updated_at"])]

    def __str__(self) -> str:
        return f"{self.source_username} → {self.target_username} {self.amount} ({self.state})"

    @property
    def is_final(self) -> bool:
        return self.state in self.FINAL_STATES


class PortalInvitation(models.Model):
    """A single-use link that lets someone set the password of a new portal login for an
    account. Only a hash of the token is stored; the link is shown once."""

    created_at = models.DateTimeField(auto_now_add=True)
    account = models.ForeignKey(
        BearSMSAccount, on_delete=models.CASCADE, related_name="invitations"
    )
    username = models.CharField(max_length=150)
    email = models.EmailField(max_length=250, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"invitation {self.username} → {self.account}"

    def status(self, now=None) -> str:
        from django.utils import timezone

        now = now or timezone.now()
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "pending"


class CreditCheck(models.Model):
    """One reconciliation of an account: the server's figure against the portal's."""

    class Verdict(models.TextChoices):
        AGREES = "agrees", "Agrees"
        DIFFERS = "differs", "Differs"
        UNRELIABLE = "unreliable", "Server figure unreliable"
        UNREADABLE = "unreadable", "Could not read the server"

    checked_at = models.DateTimeField(auto_now_add=True, db_index=True)
    account = models.ForeignKey(
        BearSMSAccount, on_delete=models.CASCADE, related_name="credit_checks"
    )
    server_figure = money_field(null=True, blank=True)
    expected = money_field(null=True, blank=True)
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-checked_at", "-id"]

    def __str__(self) -> str:
        return f"{self.account} {self.verdict}"


class FormSubmission(models.Model):
    """One use of a one-time form key (see :mod:`accounts.idempotency`): the first outcome of
    a form that writes to BearSMS, replayed to any later POST carrying the same key."""

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        UNKNOWN = "unknown", "Outcome unknown"

    key = models.UUIDField(unique=True)
    action = models.CharField(max_length=30)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.RUNNING)
    # What the service returned (a reference, see accounts.idempotency) or the error it raised.
    result = models.JSONField(default=dict, blank=True)
    audit_entry = models.ForeignKey(
        AuditEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "form submission"

    def __str__(self) -> str:
        return f"{self.action} {self.key} {self.state}"


class StoplistNumber(models.Model):
    """A number the portal put on the server's global stoplist (there is no op to list or
    remove entries, so this is the portal's record of its ``stoplist`` calls)."""

    # The digits the server stores (no "+", no spaces): see accounts.services.stoplist_add.
    number = models.CharField(max_length=20, unique=True)
    typed = models.CharField(max_length=100, blank=True, help_text="As first typed.")
    created_at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_username = models.CharField(max_length=150, blank=True)
    # The server answered 627 to the portal's first call: it was there already.
    already_on_server = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "stoplisted number"

    def __str__(self) -> str:
        return self.number
