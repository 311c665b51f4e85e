"""Authentication as playSMS does it (§2): token auth, admin auth, password auth, lockout."""

from __future__ import annotations

import hashlib
import ipaddress
import re
import secrets

from django.db.models import F

from ..models import FirewallAttempt, FirewallBlock, Level, SandboxUser
from ..profiles import Switches

_CANONICAL = re.compile(r"^[a-z0-9._-]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ALNUM = re.compile(r"^[A-Za-z0-9]+$")


class AuthFailed(Exception):
    pass


# --- passwords ---------------------------------------------------------------------------------
def hash_password(password: str) -> str:
    salt = secrets.token_hex(8)
    return f"{salt}${hashlib.sha256((salt + password).encode()).hexdigest()}"


def check_password(stored: str, password: str) -> bool:
    if not stored or "$" not in stored:
        return False
    salt, digest = stored.split("$", 1)
    return secrets.compare_digest(hashlib.sha256((salt + password).encode()).hexdigest(), digest)


# --- IP allow-list -----------------------------------------------------------------------------
def ip_entry_matches(entry: str, ip: str) -> bool:
    """One `webservices_ip` entry: exact, CIDR or `*` wildcard. Dash ranges and entries
    starting with `*` or `0` never match (the bundled ip-lib's behaviour)."""
    entry = entry.strip()
    if not entry or entry[0] in "*0" or "-" in entry:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if "*" in entry:
        pattern = re.escape(entry).replace(r"\*", r"[0-9a-fA-F]+")
        return re.fullmatch(pattern, ip) is not None
    try:
        if "/" in entry:
            return address in ipaddress.ip_network(entry, strict=False)
        return address == ipaddress.ip_address(entry)
    except ValueError:
        return False


def token_ip_allowed(ip_list: str, ip: str) -> bool | None:
    """Token auth's loop: True on a match, False on none, None when an empty entry is reached
    before any match (fails without counting)."""
    for entry in ip_list.split(","):
        if not entry.strip():
            return None
        if ip_entry_matches(entry, ip):
            return True
    return False


def password_ip_allowed(ip_list: str, ip: str) -> bool:
    """`get_token`'s own loop: empty entries are skipped."""
    return any(ip_entry_matches(e, ip) for e in ip_list.split(",") if e.strip())


# --- lockout -----------------------------------------------------------------------------------
def is_blocked(ip: str) -> bool:
    return FirewallBlock.objects.filter(ip=ip).exists()


def count_failure(ip: str, sw: Switches) -> None:
    if not sw.brute_force:
        return
    attempt, _ = FirewallAttempt.objects.get_or_create(ip=ip)
    if attempt.count >= sw.brute_force_limit:
        FirewallBlock.objects.get_or_create(ip=ip)
    FirewallAttempt.objects.filter(pk=attempt.pk).update(count=F("count") + 1)


def reset_failures(ip: str) -> None:
    FirewallAttempt.objects.filter(ip=ip, count__gt=0).update(count=0)


# --- accounts ----------------------------------------------------------------------------------
def live_users():
    return SandboxUser.objects.filter(deleted=False)


def find_live(username: str) -> SandboxUser | None:
    if not username:
        return None
    return live_users().filter(username=username).first()


def is_banned(user: SandboxUser) -> bool:
    """Bans are inherited: a subaccount of a banned parent counts as banned."""
    if user.banned_at is not None:
        return True
    return bool(user.status == Level.SUBACCOUNT and user.parent_id and user.parent.banned_at)


def resolve_username(u: str) -> str | None:
    """An email-shaped `u` becomes the username of the live account with that email."""
    if _EMAIL.match(u or ""):
        user = live_users().filter(email=u).first()
        return user.username if user else None
    return u


def authenticate_token(*, u: str, h: str, ip: str, sw: Switches) -> SandboxUser:
    """User-level token auth (§2.1). Raises AuthFailed (→ ERR 100 / 600)."""
    username = resolve_username(u)
    if not username or not _CANONICAL.match(username):
        raise AuthFailed
    if not h or not _ALNUM.match(h):
        raise AuthFailed
    if is_blocked(ip):
        raise AuthFailed
    account = (
        live_users()
        .filter(token=h, enable_webservices=True)
        .exclude(webservices_ip="")
        .select_related("parent")
        .first()
    )
    if account is None:
        count_failure(ip, sw)
        raise AuthFailed
    allowed = token_ip_allowed(account.webservices_ip, ip)
    if allowed is None:
        raise AuthFailed
    if not allowed:
        count_failure(ip, sw)
        raise AuthFailed
    if is_banned(account):
        raise AuthFailed
    if sw.brute_force:
        reset_failures(ip)
    if account.username != username:
        raise AuthFailed
    return account


def authenticate_admin(*, u: str, h: str, ip: str, sw: Switches) -> SandboxUser:
    account = authenticate_token(u=u, h=h, ip=ip, sw=sw)
    if account.status != Level.ADMIN:
        raise AuthFailed
    return account


class TokenRefused(Exception):
    """get_token's specific refusals: 106, 104, 105."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def get_token(*, u: str, p: str, ip: str, sw: Switches) -> str:
    """Password login (§4.7): 100, then 106, 104, 105; returns the existing token."""
    username = resolve_username(u)
    if not username or not _CANONICAL.match(username):
        raise AuthFailed
    account = find_live(username)
    if account is None or len(p or "") <= 4 or is_blocked(ip) or is_banned(account):
        raise AuthFailed
    if not check_password(account.password_hash, p):
        count_failure(ip, sw)
        raise AuthFailed
    if not password_ip_allowed(account.webservices_ip, ip):
        raise TokenRefused("106")
    if not account.token:
        raise TokenRefused("104")
    if not account.enable_webservices:
        raise TokenRefused("105")
    return account.token


def new_token() -> str:
    return secrets.token_hex(16)


def set_token(account: SandboxUser) -> str:
    """Rotate the caller's token: the old one dies at once."""
    token = new_token()
    SandboxUser.objects.filter(pk=account.pk).update(token=token)
    return token
