"""Account administration: the business rules behind the admin ops (§4.15–§4.26).

Each function does one action and raises :class:`OpError` with the server's code (and `info`
text where the server gives one), or :class:`~..replies.DatabaseFatal` where the real server
aborts with a DB exception.
"""

from __future__ import annotations

import re
import secrets
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from ..models import Level, SandboxUser, SenderId, WebSession
from ..profiles import Switches
from ..replies import DatabaseFatal
from .auth import find_live, hash_password, live_users
from .auth import new_token as _new_token
from .credit import apply_credit_change


class OpError(Exception):
    def __init__(self, code: str, info: str | None = None):
        super().__init__(code)
        self.code = code
        self.info = info


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_FOOTER = re.compile(r"[^A-Za-z0-9 +\-_@]")


def clean_username(raw: str) -> str:
    return re.sub(r"[^a-z0-9._-]", "", raw.lower())


def clean_footer(raw: str) -> str:
    return _FOOTER.sub("", raw)[:30]


def _validate(*, username=None, password=None, email=None, mobile=None, exclude_pk=None):
    """playSMS's account validation, in its order; raises OpError(None, info)."""
    if password is not None and len(password) < 4:
        raise OpError("", "Password should be at least 4 characters")
    if username is not None and (
        not 3 <= len(username) <= 30 or not re.search(r"[a-z0-9.-]", username)
    ):
        raise OpError(
            "", f"Username must be at least 3 characters and maximum 30 characters ({username})"
        )
    if email is not None and not _EMAIL.match(email):
        raise OpError("", f"Your email format is invalid ({email})")
    if mobile and not re.search(r"[0-9+\- ]", mobile):
        raise OpError("", f"Your mobile format is invalid ({mobile})")
    others = live_users().exclude(pk=exclude_pk)
    if username is not None and others.filter(username=username).exists():
        raise OpError("", f"Account already exists (username: {username})")
    if email is not None and others.filter(email=email).exists():
        raise OpError("", f"Account with this email already exists (email: {email})")
    if mobile and others.filter(mobile=mobile).exists():
        raise OpError("", f"Account with this mobile already exists (mobile: {mobile})")


@transaction.atomic
def create_account(
    *,
    status: str,
    username: str,
    password: str,
    name: str,
    email: str,
    mobile: str = "",
    parent: str = "",
    timezone_: str = "",
    language: str = "",
    sw: Switches,
) -> SandboxUser:
    """accountadd: returns the new account or raises OpError("604", info)."""
    level = {"2": Level.ADMIN, "3": Level.USER}.get(str(status).strip(), Level.SUBACCOUNT)
    username = clean_username(username)
    try:
        _validate(username=username, password=password, email=email, mobile=mobile)
    except OpError as exc:
        raise OpError("604", exc.info) from exc
    parent_account = find_live(parent) if parent and level == Level.SUBACCOUNT else None
    if parent_account is not None and parent_account.status not in (Level.ADMIN, Level.USER):
        parent_account = None
    account = SandboxUser.objects.create(
        username=username,
        password_hash=hash_password(password),
        name=name,
        email=email,
        mobile=mobile,
        status=level,
        parent=parent_account,
        # The new-account configuration playSMS 1.4.8 stores (server-findings, second round).
        footer=f"@{username}",
        sender="",
        datetime_timezone=timezone_,
        language_module=language,
        fwd_to_inbox=True,
        fwd_to_email=True,
        fwd_to_mobile=False,
        local_length=9,
        replace_zero="",
        last_update=timezone.now(),
    )
    if sw.default_credit:
        apply_credit_change(account, Decimal(str(sw.default_credit)), sw=sw)
    return account


def added_info(account: SandboxUser, sw: Switches) -> str:
    mailed = "and password has been emailed" if sw.mail_works else "but failed to send email"
    return f"Account has been added {mailed} (username: {account.username})"


def enable_webservices(
    account: SandboxUser, *, token: str | None = None, ip_list: str = "127.0.0.1"
) -> str:
    """What an admin does in the web UI (no API op can): a token, the flag and the IP list.
    The web UI's "Renew webservices token" mints 64 hex characters (``set_token`` mints 32)."""
    account.token = token or secrets.token_hex(32)
    account.enable_webservices = True
    account.webservices_ip = ip_list
    account.save(update_fields=["token", "enable_webservices", "webservices_ip"])
    return account.token


def save_user_config(
    account: SandboxUser, *, enable_webservices: bool, ip_list: str, new_token: bool
) -> SandboxUser:
    """The web UI's user configuration page, as the logged-in account saves it: the webservices
    flag, the IP list and, on request, a freshly generated token (the old one stops working)."""
    ip_list = ",".join(part.strip() for part in (ip_list or "").split(",") if part.strip())
    account.enable_webservices = enable_webservices
    account.webservices_ip = ip_list
    fields = ["enable_webservices", "webservices_ip"]
    if new_token or (enable_webservices and not account.token):
        account.token = _new_token()
        fields.append("token")
    account.save(update_fields=fields)
    return account


def remove_account(username: str) -> SandboxUser:
    account = find_live(username)
    if account is None:
        raise OpError("605")
    if account.is_main_admin:
        raise OpError("606", f"User is immune to deletion (username: {account.username})")
    if live_users().filter(parent=account, status=Level.SUBACCOUNT).exists():
        raise OpError(
            "606", "Unable to delete this user until all subusers under this user have been removed"
        )
    account.deleted = True
    account.password_hash = ""
    account.banned_at = None
    account.save(update_fields=["deleted", "password_hash", "banned_at"])
    return account


def set_parent(username: str, parent: str) -> None:
    account, parent_account = find_live(username), find_live(parent)
    if account is None or parent_account is None:
        raise OpError("607")
    if parent_account.status != Level.USER:
        raise OpError("608")
    if account.parent_id == parent_account.pk and account.status == Level.SUBACCOUNT:
        raise OpError("608")  # zero rows changed
    account.parent, account.status = parent_account, Level.SUBACCOUNT
    account.save(update_fields=["parent", "status"])


def get_parent(username: str) -> SandboxUser:
    account = find_live(username)
    if account is None:
        raise OpError("609")
    parent = account.parent
    if (
        account.status != Level.SUBACCOUNT
        or parent is None
        or parent.deleted
        or parent.status not in (Level.ADMIN, Level.USER)
    ):
        raise OpError("610")
    return parent


def ban(username: str) -> None:
    account = find_live(username)
    if account is None:
        raise OpError("611")
    if account.is_main_admin:
        raise OpError("612")
    account.banned_at = timezone.now()
    account.save(update_fields=["banned_at"])
    WebSession.objects.filter(user=account).delete()


def unban(username: str) -> None:
    account = find_live(username)
    if account is None:
        raise OpError("613")
    if account.banned_at is None:
        raise OpError("614")
    account.banned_at = None
    account.save(update_fields=["banned_at"])


PREF_FIELDS = ("name", "email", "mobile", "address", "city", "state", "country", "zipcode")
_COLUMN_LIMITS = {"zipcode": 10, "mobile": 16, "name": 100}


def update_preferences(username: str, data: dict[str, str]) -> str:
    """accountpref: returns the `info` text; empty values are ignored."""
    account = find_live(username)
    values = {k: v for k, v in data.items() if v}
    if account is None or not values:
        raise OpError("615")
    if "country" in values and not re.fullmatch(r"-?\d+", values["country"]):
        raise DatabaseFatal
    for field, limit in _COLUMN_LIMITS.items():
        if len(values.get(field, "")) > limit:
            raise DatabaseFatal
    password = values.pop("password", None)
    try:
        _validate(
            password=password,
            email=values.get("email"),
            mobile=values.get("mobile"),
            exclude_pk=account.pk,
        )
    except OpError as exc:
        raise OpError("616", exc.info) from exc
    changed = [f for f in PREF_FIELDS if f in values and str(getattr(account, f)) != values[f]]
    now = timezone.now().replace(microsecond=0)
    if not changed and password is None and account.last_update == now:
        raise OpError("616", "Fail to save preferences")  # same second, zero rows changed
    for field in changed:
        setattr(account, field, int(values[field]) if field == "country" else values[field])
    if password is not None:
        account.password_hash = hash_password(password)
    account.last_update = now
    account.save()
    return "Preferences have been saved" + (" and password updated" if password else "")


CONF_FIELDS = (
    "footer",
    "datetime_timezone",
    "language_module",
    "fwd_to_inbox",
    "fwd_to_email",
    "fwd_to_mobile",
    "local_length",
    "replace_zero",
    "sender",
)


def update_configuration(username: str, data: dict[str, str], *, sw: Switches) -> None:
    """accountconf: the footer and the default sender are always rewritten (cleared when
    omitted); a sender that is not an approved ID of the account gives 618."""
    account = find_live(username)
    if account is None or not any(len(data.get(f, "")) > 0 for f in CONF_FIELDS):
        raise OpError("617")
    sender = data.get("sender", "")
    if sender and not account.sender_ids.filter(sender_id=sender, approved=True).exists():
        raise OpError("618", "Invalid sender ID")
    account.sender = sender
    if sw.custom_footer:
        account.footer = clean_footer(data.get("footer", ""))
    for field in ("datetime_timezone", "language_module", "replace_zero"):
        if field in data and data[field] != "":
            setattr(account, field, data[field])
    for field in ("fwd_to_inbox", "fwd_to_email", "fwd_to_mobile"):
        if field in data and data[field] != "":
            setattr(account, field, data[field] not in ("0", ""))
    if data.get("local_length", "") != "":
        account.local_length = int(re.sub(r"\D", "", data["local_length"]) or 0)
    account.save()


def credit_view(username: str) -> Decimal:
    account = find_live(username)
    if account is None or account.credit == 0:
        raise OpError("620")
    return account.credit


def credit_change(username: str, amount: Decimal, *, sw: Switches) -> Decimal | None:
    """creditadd/creditdeduct: a ledger entry; returns the balance the server reports (the
    cached, pre-change figure — None at zero — unless stale credit is switched off)."""
    account = find_live(username)
    if account is None:
        raise DatabaseFatal  # insert with an empty uid
    before = account.credit
    after = apply_credit_change(account, amount, sw=sw)
    balance = before if sw.stale_credit else after
    return None if balance == 0 else balance


def set_login_key(username: str) -> str:
    account = find_live(username)
    if account is None:
        raise DatabaseFatal
    account.login_key = secrets.token_hex(16)
    account.save(update_fields=["login_key"])
    return account.login_key


def ws_login(username: str, key: str) -> SandboxUser | None:
    """Burn the stored key (always), then compare: the account on success, else None."""
    account = find_live(username)
    if account is None:
        return None
    stored = account.login_key
    SandboxUser.objects.filter(pk=account.pk).update(login_key="")
    if stored and key and secrets.compare_digest(stored, key):
        return account
    return None


def approve_sender_id(account: SandboxUser, sender_id: str) -> SenderId:
    return SenderId.objects.get_or_create(user=account, sender_id=sender_id)[0]
