"""Every admin op on BearSMS accounts, one service function each.

A service checks permission and input, calls the API (never inside a database transaction),
updates the local record and writes the audit entry (success or failure, with the ERR code) in
one transaction. ``@audits_refusals`` records the attempts refused before the API is called
(permission denied, input refused) as "refused" entries. Views, admin actions, commands and
tasks call these; nothing else calls the client for account administration.

The real server's traps are absorbed here (see ``../shared/bearsms-api.md`` §4.15–4.26):

- ``accountadd`` may answer HTTP 500 after creating the account: the outcome is settled by
  asking ``parentget`` (609 = it does not exist), never by adding again;
- ``accountconf`` clears footer and sender unless they are sent: the complete configuration
  is always sent;
- ``parentset`` answers 608 when nothing changed: ``parentget`` tells whether the wanted
  parent is already set;
- ``creditview`` answers 620 for a zero balance (and for an unknown user: ``parentget`` tells);
- ``creditadd``/``creditdeduct``/``loginkeyset`` crash on an unknown username: it is checked
  with ``parentget`` first;
- ``ws_login`` works for banned accounts: "open in BearSMS" is refused for them here.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from bearsms_portal import bearsms as api
from bearsms_portal.phone import InvalidNumber, normalize_number
from bearsms_portal.templatetags.portal_format import lag_words

from . import amounts, balances, configuration, countries, crypto, zones
from .audit import AUTHRETRY, UNKNOWN_FAULTS, audited, audits_refusals
from .clients import (
    AUTH_GUARD,
    AccountNotLinked,
    admin_client,
    client_for,
    client_without_token,
    guard_key,
    guard_report,
)
from .errors import ADMIN_CREDENTIALS, ServiceError, explain
from .idempotency import once_per_key
from .models import (
    AuditEntry,
    BearSMSAccount,
    CreditLedgerEntry,
    PortalProfile,
    StoplistNumber,
)
from .permissions import ensure_can
from .roles import Role, account_of, role_of
from .settling import answer_is_final

Level = BearSMSAccount.Level
Status = BearSMSAccount.Status

USERNAME_RE = re.compile(r"[a-z0-9._-]{3,30}")
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
FOOTER_RE = re.compile(r"[A-Za-z0-9 +\-_@]{0,30}")
REPLACE_ZERO_RULE = "Digits only: the country code that replaces a leading 0 (e.g. 62)."
#: get_token refuses passwords of 4 characters or fewer, so the portal asks for at least 5.
MIN_PASSWORD = 5


# --- helpers -----------------------------------------------------------------------------------


def _require(condition: bool, message: str, field: str | None = None) -> None:
    if not condition:
        raise ServiceError(message, field=field)


def _number(raw: str, field: str) -> str:
    """A phone number as BearSMS stores it (see bearsms_portal.phone), or a field error."""
    try:
        return normalize_number(raw)
    except InvalidNumber as exc:
        raise ServiceError(str(exc), field=field) from None


def validate_username(username: str) -> str:
    username = (username or "").strip()
    _require(
        bool(USERNAME_RE.fullmatch(username)) and bool(re.search(r"[a-z0-9.-]", username)),
        "Use 3 to 30 lowercase letters, digits, dots, dashes or underscores "
        "(the server stores usernames that way).",
        "username",
    )
    return username


def validate_password(password: str, field: str = "password") -> str:
    _require(
        len(password or "") >= MIN_PASSWORD,
        f"Use at least {MIN_PASSWORD} characters (BearSMS refuses shorter passwords at login).",
        field,
    )
    return password


def _amount(value) -> Decimal:
    """An amount the server can hold (``accounts.amounts``), or a field error."""
    try:
        return amounts.check_amount(value)
    except ValueError as exc:
        raise ServiceError(str(exc), field="amount") from None


def _zone(value: str, field: str) -> str:
    """A ``+HHMM`` zone as accountadd/accountconf store it ('' = the server's zone)."""
    value = (value or "").strip()
    _require(not value or zones.is_offset(value), zones.OFFSET_RULE, field)
    return value


def _exists_on_server(audit, username: str) -> bool:
    """Ask ``parentget`` whether ``username`` exists (the client's one probe)."""
    return audit.call(
        "parentget",
        admin_client().account_exists,
        username,
        describe_result=lambda exists: ("OK", None) if exists else ("ERR 609 no such account", 609),
    )


def _parent_on_server(audit, username: str, *, missing: str, field: str | None = None):
    """``username``'s parent according to ``parentget``, as its local record (``None``: no
    parent). ``missing`` (with ``{parent}``) is the error when the parent is not in the portal."""
    try:
        info = audit.call("parentget", admin_client().parent_get, username)
    except api.NoParent:
        return None
    parent = BearSMSAccount.objects.filter(username=info.parent).first()
    _require(parent is not None, missing.format(parent=info.parent), field)
    return parent


def _figure(audit, username: str) -> Decimal:
    """The server's credit figure (``creditview``; 620 means zero for an existing account)."""
    try:
        return audit.call("creditview", admin_client().credit_view, username)
    except api.ZeroCredit:
        return Decimal(0)


def _ensure_exists(audit, username: str) -> None:
    if not _exists_on_server(audit, username):
        raise ServiceError(
            f"There is no account “{username}” on the BearSMS server "
            "(it may have been removed outside the portal).",
            code=609,
        )


def _set_link_error(account: BearSMSAccount, reason: str) -> None:
    account.link_error = reason
    account.save(update_fields=["link_error", "updated_at"])


def banned_by(account: BearSMSAccount) -> BearSMSAccount | None:
    """The account whose ban blocks ``account`` (itself, or its reseller: bans are inherited, a
    subaccount of a banned reseller counts as banned, as the server says), or None."""
    if account.is_banned:
        return account
    if account.parent is not None and account.parent.is_banned:
        return account.parent
    return None


# --- creating and linking ------------------------------------------------------------------------


@once_per_key("accountadd")
@audits_refusals("accountadd")
def account_create(
    *,
    actor,
    username: str,
    password: str,
    name: str,
    email: str,
    level: int = Level.USER,
    parent: BearSMSAccount | None = None,
    mobile: str = "",
    timezone_offset: str = "",
    language: str = "",
) -> BearSMSAccount:
    """``accountadd``: create an account on BearSMS and locally, then try to link it.

    Resellers may only create subaccounts under their own account. An HTTP 500 answer is
    settled with ``parentget``. Linking (``get_token`` with the new password) usually fails on
    the real server (new accounts have webservices off); the account is then kept as not
    linked, with the reason, and the password is kept encrypted until a "link now" succeeds.
    """
    ensure_can(actor, "accountadd")
    level = Level(int(level))
    if role_of(actor) == Role.RESELLER:
        own = account_of(actor)
        if level != Level.SUBACCOUNT or parent is None or parent.pk != own.pk:
            raise PermissionDenied("Resellers create subaccounts under their own account only.")
    username = validate_username(username)
    validate_password(password)
    name, email, mobile = (name or "").strip(), (email or "").strip(), (mobile or "").strip()
    _require(bool(name), "Enter a name.", "name")
    _require(bool(EMAIL_RE.fullmatch(email)), "Enter a valid email address.", "email")
    if mobile:
        mobile = _number(mobile, "mobile")
    if level == Level.SUBACCOUNT:
        _require(parent is not None, "A subaccount needs a parent reseller.", "parent")
        _require(parent.level == Level.USER, "The parent must be a reseller account.", "parent")
    else:
        parent = None
    _require(
        not BearSMSAccount.objects.filter(username=username).exists(),
        f"The username “{username}” is already taken.",
        "username",
    )
    timezone_offset = _zone(timezone_offset, "timezone_offset")

    params = {"level": int(level), "parent": parent.username if parent else ""}
    with audited(
        actor=actor, action="accountadd", target_username=username, params=params
    ) as audit:
        try:
            added = audit.call(
                "accountadd",
                admin_client().account_add,
                username=username,
                password=password,
                name=name,
                email=email,
                status=int(level),
                parent=parent.username if parent else None,
                mobile=mobile or None,
                timezone=timezone_offset or None,
                language=language or None,
                verify=False,
            )
            stored = added.username or username
        except UNKNOWN_FAULTS as exc:
            if not answer_is_final(exc):
                # The op may still be running: keep the account as unconfirmed (with its
                # password, for linking) and let accounts.settling ask later.
                with transaction.atomic():
                    audit.target = BearSMSAccount.objects.create(
                        username=username,
                        level=level,
                        parent=parent,
                        name=name,
                        email=email,
                        mobile=mobile,
                        timezone=timezone_offset,
                        language=language,
                        footer=f"@{username}",
                        created_by=actor if getattr(actor, "pk", None) else None,
                        pending_password_encrypted=crypto.encrypt(password),
                        link_error="Not linked yet: the creation is being confirmed.",
                    )
                raise
            # PHP answered (1.4.8's 500 on success): the op has finished, so ask now —
            # never by adding again.
            try:
                exists = _exists_on_server(audit, username)
            except api.BearSMSError:
                raise exc from None
            if not exists:
                raise ServiceError(
                    "The BearSMS server failed and did not create the account. You can try again."
                ) from exc
            audit.note("accountadd answered without a result; parentget confirmed the account")
            stored = username
        with transaction.atomic():
            account = BearSMSAccount.objects.create(
                username=stored,
                level=level,
                parent=parent,
                name=name,
                email=email,
                mobile=mobile,
                **{
                    **configuration.new_account_defaults(stored),
                    "timezone": timezone_offset,
                    "language": language,
                },
                conf_known=list(configuration.FIELDS),
                created_by=actor if getattr(actor, "pk", None) else None,
                # New accounts start at zero credit on the server.
                balance_base=Decimal(0),
                balance_base_at=timezone.now(),
            )
            audit.target = account
            audit.succeeded(f"Created {account.get_level_display().lower()} {stored}.")
    _try_link(actor=actor, account=account, password=password)
    account.refresh_from_db()
    return account


def _try_link(*, actor, account: BearSMSAccount, password: str) -> bool:
    """Try ``get_token``; on failure keep the reason and the password (encrypted) for a retry."""
    try:
        account_link(actor=actor, account=account, password=password)
    except ServiceError:
        account.refresh_from_db()
        account.pending_password_encrypted = crypto.encrypt(password)
        account.save(update_fields=["pending_password_encrypted", "updated_at"])
        return False
    return True


def _ensure_link_attempts_left(account: BearSMSAccount) -> None:
    """At most ``LINK_ATTEMPTS`` link attempts per account per ``LINK_ATTEMPTS_WINDOW``: each
    wrong password is a failure the server counts against the portal's IP address."""
    window = timedelta(seconds=settings.LINK_ATTEMPTS_WINDOW)
    recent = list(
        AuditEntry.objects.filter(
            action="get_token", target=account, created_at__gte=timezone.now() - window
        )
        .exclude(outcome=AuditEntry.Outcome.REFUSED)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[: settings.LINK_ATTEMPTS]
    )
    if len(recent) < settings.LINK_ATTEMPTS:
        return
    wait = recent[-1] + window - timezone.now()
    raise ServiceError(
        f"{account.username} has had {len(recent)} link attempts in the last "
        f"{lag_words(window.total_seconds())}. Check the password, then try again in "
        f"{lag_words(wait.total_seconds())} (each wrong password counts towards the "
        "server's block of the portal's address)."
    )


@once_per_key("get_token")
@audits_refusals("get_token")
def account_link(*, actor, account: BearSMSAccount, password: str | None = None) -> BearSMSAccount:
    """``get_token``: obtain the account's token with its password and keep it (encrypted).

    Without ``password``, the password kept from the portal's own create/preferences is used
    ("link now" after an administrator enabled webservices for the account). Limited to
    ``LINK_ATTEMPTS`` per account and hour. A failed attempt on an account that is linked
    leaves it linked with its token (the attempt's audit entry says what failed).
    """
    ensure_can(actor, "get_token", account)
    if not password:
        password = crypto.decrypt(account.pending_password_encrypted)
        _require(bool(password), "Enter the account's BearSMS password.", "password")
    _ensure_link_attempts_left(account)
    with audited(actor=actor, action="get_token", target=account) as audit:
        client = client_without_token(account.username)
        try:
            token = audit.call("get_token", client.get_token, password)
        except api.BearSMSError as exc:
            _, reason = explain(exc, op="get_token", username=account.username)
            if not account.is_linked:
                _set_link_error(account, reason)
            raise
        with transaction.atomic():
            account.store_token(token)
            account.link_error = ""
            account.pending_password_encrypted = ""
            account.linked_at = timezone.now()
            account.save(
                update_fields=[
                    "token_encrypted",
                    "link_error",
                    "linked_at",
                    "pending_password_encrypted",
                    "updated_at",
                ]
            )
            audit.succeeded("Linked: the portal now holds the account's token.")
    return account


@once_per_key("accountimport")
@audits_refusals("accountimport")
def account_import(
    *,
    actor,
    username: str,
    password: str = "",
    level: int = Level.USER,
    timezone_offset: str = "",
) -> BearSMSAccount:
    """Link an account that already exists on BearSMS (created outside the portal).

    The account must exist (``parentget``); its parent comes from the same answer. With the
    password the portal also links it and reads its profile with ``query``; otherwise (or if
    linking fails) it is kept as not linked, with the reason. ``timezone_offset`` is the
    account's own zone as set in BearSMS ('' = it follows the server's zone): no op reads it,
    and the server shifts the account's times by it (see :func:`account_zone_record`).
    """
    ensure_can(actor, "accountimport")
    username = validate_username(username)
    timezone_offset = _zone(timezone_offset, "timezone_offset")
    _require(
        not BearSMSAccount.objects.filter(username=username).exists(),
        f"“{username}” is already in the portal.",
        "username",
    )
    with audited(actor=actor, action="accountimport", target_username=username) as audit:
        try:
            parent = _parent_on_server(
                audit,
                username,
                missing="Its parent “{parent}” is not in the portal yet: link the parent first.",
                field="username",
            )
        except api.UnknownUser:
            raise ServiceError(
                f"There is no account “{username}” on the BearSMS server.",
                field="username",
                code=609,
            ) from None
        if parent is not None:
            level = Level.SUBACCOUNT
        elif int(level) == Level.SUBACCOUNT:
            level = Level.USER
        token, summary, reason = "", None, ""
        if password:
            client = client_without_token(username)
            try:
                token = audit.call("get_token", client.get_token, password)
                summary = audit.call("query", client.query)
            except api.BearSMSError as exc:
                _, reason = explain(exc, op="get_token", username=username)
        else:
            reason = "No password was given: link it with the account's password."
        with transaction.atomic():
            account = BearSMSAccount(
                username=username,
                level=level,
                parent=parent,
                created_by=actor if getattr(actor, "pk", None) else None,
                link_error=reason,
                timezone=timezone_offset,
                conf_known=["timezone"],  # confirmed by the user at import
            )
            if summary is not None:
                if int(summary.status) in Level.values:
                    account.level = int(summary.status)
                account.name, account.email = summary.name, summary.email
                account.mobile = summary.mobile
                # The server's figure at import is the best base there is (its cache may be
                # stale; a later "Refresh" is judged against the ledger from here on).
                balances.record_server_figure(
                    account,
                    summary.credit,
                    balances.Verdict(unreliable=False),
                    ledger_id=0,
                    at=timezone.now(),
                )
            if token:
                account.store_token(token)
                account.linked_at = timezone.now()
            account.save()
            audit.target = account
            audit.succeeded("Linked." if token else f"Added, not linked: {reason}")
    return account


# --- status --------------------------------------------------------------------------------------


@once_per_key("accountban")
@audits_refusals("accountban")
def account_ban(*, actor, account: BearSMSAccount) -> BearSMSAccount:
    """``accountban``: ban on BearSMS (its subaccounts are blocked too) and locally."""
    ensure_can(actor, "accountban", account)
    with audited(actor=actor, action="accountban", target=account) as audit:
        audit.call("accountban", admin_client().account_ban, account.username)
        with transaction.atomic():
            account.status = Status.BANNED
            account.save(update_fields=["status", "updated_at"])
            audit.succeeded("Banned.")
    return account


@once_per_key("accountunban")
@audits_refusals("accountunban")
def account_unban(*, actor, account: BearSMSAccount) -> BearSMSAccount:
    """``accountunban``; 614 (not banned) means the wanted state already holds."""
    ensure_can(actor, "accountunban", account)
    with audited(actor=actor, action="accountunban", target=account) as audit:
        code, message = None, "Unbanned."
        try:
            audit.call("accountunban", admin_client().account_unban, account.username)
        except api.NotBanned:
            code, message = 614, "The server says it was not banned; marked active."
        with transaction.atomic():
            account.status = Status.ACTIVE
            account.save(update_fields=["status", "updated_at"])
            audit.succeeded(message, code=code)
    return account


@once_per_key("accountremove")
@audits_refusals("accountremove")
def account_remove(*, actor, account: BearSMSAccount) -> None:
    """``accountremove``: soft-delete on BearSMS; the local record goes, its history stays."""
    ensure_can(actor, "accountremove", account)
    _require(
        not account.subaccounts.exists(),
        "Remove its subaccounts first (BearSMS refuses to remove an account that has some).",
    )
    _require(
        not account.portal_users.exists(),
        "Portal users are linked to this account: remove or re-link them first.",
    )
    username = account.username
    with audited(actor=actor, action="accountremove", target=account) as audit:
        try:
            audit.call("accountremove", admin_client().account_remove, username)
        except UNKNOWN_FAULTS as exc:
            if not answer_is_final(exc):
                raise  # may still be running: accounts.settling asks later
            if _exists_on_server(audit, username):  # 609 would mean it is gone
                raise ServiceError(
                    "The BearSMS server failed and did not remove the account. You can try again."
                ) from exc
            audit.note("accountremove answered without a result; parentget: it is gone")
        with transaction.atomic():
            AuditEntry.objects.filter(target=account).update(target=None)
            CreditLedgerEntry.objects.filter(account=account).update(account=None)
            account.delete()
            audit.target = None
            audit.succeeded(f"Removed {username}.")


# --- profile and configuration -------------------------------------------------------------------

PREF_FIELDS = ("name", "email", "mobile", "address", "city", "state", "country", "zipcode")
#: the server stores any number as it is; the portal sends only ids of its country table
COUNTRY_RULE = "Choose a country from the list."
NOT_CLEARED = "BearSMS cannot clear this field once it is set, only change it."


@once_per_key("accountpref")
@audits_refusals("accountpref")
def account_pref(*, actor, account: BearSMSAccount, password: str = "", **values) -> BearSMSAccount:
    """``accountpref``: send the profile fields that changed (the server ignores empty values
    and refuses a call that changes nothing) and a new password if given."""
    ensure_can(actor, "accountpref", account)
    unknown = set(values) - set(PREF_FIELDS)
    if unknown:
        raise TypeError(f"unknown preference fields: {sorted(unknown)}")
    changed = {}
    for field, value in values.items():
        value = value.strip() if isinstance(value, str) else value
        if value in ("", None):
            continue
        if value != getattr(account, field):
            changed[field] = value
    if "email" in changed:
        _require(
            bool(EMAIL_RE.fullmatch(changed["email"])), "Enter a valid email address.", "email"
        )
    if "country" in changed:
        _require(countries.is_known(changed["country"]), COUNTRY_RULE, "country")
    if "mobile" in changed:
        changed["mobile"] = _number(changed["mobile"], "mobile")
        if changed["mobile"] == account.mobile:
            del changed["mobile"]
    if password:
        validate_password(password)
    _require(
        bool(changed) or bool(password),
        "Nothing changed (BearSMS cannot clear a field, only change it).",
    )
    with audited(
        actor=actor,
        action="accountpref",
        target=account,
        params={
            "fields": sorted(changed) + (["password"] if password else []),
            # What a settlement re-sends after a lost answer (never the password).
            "values": {field: str(value) for field, value in changed.items()},
        },
    ) as audit:
        audit.call(
            "accountpref",
            admin_client().account_pref,
            account.username,
            password=password or None,
            **changed,
        )
        with transaction.atomic():
            for field, value in changed.items():
                setattr(account, field, value)
            if password and not account.is_linked:
                account.pending_password_encrypted = crypto.encrypt(password)
            account.save()
            audit.succeeded("Preferences saved." + (" Password changed." if password else ""))
    return account


def is_replace_zero(value: str) -> bool:
    """``replace_zero`` is a country code: ASCII digits only."""
    return value.isascii() and value.isdecimal()


CONF_FIELDS = configuration.FIELDS


def _conf_value(field: str, value):
    """A submitted configuration value in its stored form (``None``: not given)."""
    if value is None:
        return None
    if field in configuration.BOOLEANS:
        return bool(value)
    if field == "local_length":
        return int(value)
    return str(value).strip()


def _validate_conf(conf: dict, account: BearSMSAccount) -> None:
    if "footer" in conf:
        _require(
            bool(FOOTER_RE.fullmatch(conf["footer"])),
            "Up to 30 letters, digits, spaces and + - _ @ (the server removes anything else).",
            "footer",
        )
    if conf.get("timezone"):
        _require(zones.is_offset(conf["timezone"]), zones.OFFSET_RULE, "timezone")
    if conf.get("replace_zero"):
        _require(is_replace_zero(conf["replace_zero"]), REPLACE_ZERO_RULE, "replace_zero")
    if "local_length" in conf:
        _require(0 <= conf["local_length"] < 20, "Enter a length between 0 and 19.", "local_length")
    for field in configuration.NOT_CLEARABLE:
        if conf.get(field) == "":
            _require(False, NOT_CLEARED, field)


@once_per_key("accountconf")
@audits_refusals("accountconf")
def account_conf(*, actor, account: BearSMSAccount, **values) -> BearSMSAccount:
    """``accountconf``: send the fields that changed, plus footer and sender.

    ``values`` maps configuration fields to what the user wants; ``None`` (or a field left
    out) means "leave it as it is on the server". A field counts as changed when the portal
    does not know the server's value or knows a different one. Footer and sender are always
    sent (the server clears them otherwise): when the portal does not know them and they are
    not given, the call is refused and the user is asked for them (``accounts.configuration``).
    """
    ensure_can(actor, "accountconf", account)
    unknown = set(values) - set(CONF_FIELDS)
    if unknown:
        raise TypeError(f"unknown configuration fields: {sorted(unknown)}")
    known = configuration.known_fields(account)
    changed = {}
    for field in CONF_FIELDS:
        value = _conf_value(field, values.get(field))
        if value is None or (field in known and value == getattr(account, field)):
            continue
        changed[field] = value
    send = dict(changed)
    for field in configuration.ALWAYS_SENT:
        if field not in send:
            _require(field in known, configuration.UNKNOWN_MESSAGES[field], field)
            send[field] = getattr(account, field)
    _validate_conf(send, account)
    _require(bool(changed), "Nothing changed.")
    with audited(
        actor=actor,
        action="accountconf",
        target=account,
        # "values": what a settlement re-sends after a lost answer (accounts.settling).
        params={"fields": sorted(changed), "sent": sorted(send), "values": send},
    ) as audit:
        audit.call(
            "accountconf",
            admin_client().account_conf,
            account.username,
            **configuration.conf_arguments(send),
        )
        with transaction.atomic():
            for field, value in send.items():
                setattr(account, field, value)
            account.conf_known = sorted(known | set(send))
            account.save()
            audit.succeeded(f"Configuration saved ({', '.join(sorted(changed))}).")
    return account


@audits_refusals("zonerecord")
def account_zone_record(*, actor, account: BearSMSAccount, timezone_offset: str) -> BearSMSAccount:
    """Correct the portal's record of the account's own zone, as set in BearSMS (nothing is
    sent). The client for the account reads and writes times in it from now on; rows already
    stored keep their instants (the server fixed each row's shift when it stored it)."""
    ensure_can(actor, "accountconf", account)
    timezone_offset = _zone(timezone_offset, "timezone_offset")
    with (
        audited(
            actor=actor,
            action="zonerecord",
            target=account,
            params={"from": account.timezone, "to": timezone_offset},
        ) as audit,
        transaction.atomic(),
    ):
        account.timezone = timezone_offset
        account.conf_known = sorted(configuration.known_fields(account) | {"timezone"})
        account.save(update_fields=["timezone", "conf_known", "updated_at"])
        shown = timezone_offset or "the server's zone"
        audit.succeeded(f"Time zone recorded as {shown}.")
    return account


# --- the tree ------------------------------------------------------------------------------------


@once_per_key("parentset")
@audits_refusals("parentset")
def parent_set(*, actor, account: BearSMSAccount, parent: BearSMSAccount) -> BearSMSAccount:
    """``parentset``: make ``account`` a subaccount of the reseller ``parent``.

    The server turns the account into a subaccount whatever it was, and answers 608 when
    nothing changed; ``parentget`` then tells whether the wanted parent is in place.
    """
    ensure_can(actor, "parentset", account)
    _require(parent.level == Level.USER, "The new parent must be a reseller account.", "parent")
    _require(parent.pk != account.pk, "An account cannot be its own parent.", "parent")
    _require(
        not account.subaccounts.exists(),
        "This account has subaccounts; a subaccount cannot have subaccounts.",
        "parent",
    )
    with audited(
        actor=actor, action="parentset", target=account, params={"parent": parent.username}
    ) as audit:
        message, code = f"Parent set to {parent.username}.", None
        try:
            audit.call("parentset", admin_client().parent_set, account.username, parent.username)
        except UNKNOWN_FAULTS as exc:
            if not answer_is_final(exc):
                raise  # may still be running: accounts.settling asks later
            try:
                current = audit.call(
                    "parentget", admin_client().parent_get, account.username
                ).parent
            except api.NoParent:
                current = None
            if current != parent.username:
                raise ServiceError(
                    "The BearSMS server failed and did not change the parent. You can try again."
                ) from exc
            audit.note("parentset answered without a result; parentget shows the new parent")
        except api.ParentUnchanged as exc:
            try:
                current = audit.call("parentget", admin_client().parent_get, account.username)
            except api.BearSMSError:
                raise exc from None
            if current.parent != parent.username:
                raise
            message, code = f"{parent.username} was already the parent.", 608
        with transaction.atomic():
            account.parent = parent
            account.level = Level.SUBACCOUNT
            account.save(update_fields=["parent", "level", "updated_at"])
            audit.succeeded(message, code=code)
    return account


@audits_refusals("parentget")
def parent_get(*, actor, account: BearSMSAccount) -> BearSMSAccount | None:
    """``parentget``: read the parent from the server and bring the local record in line."""
    ensure_can(actor, "parentget", account)
    with audited(actor=actor, action="parentget", target=account) as audit:
        parent = _parent_on_server(
            audit,
            account.username,
            missing="The server names “{parent}” as parent, which is not in the portal.",
        )
        with transaction.atomic():
            if account.parent_id != (parent.pk if parent else None):
                account.parent = parent
                if parent is not None:
                    account.level = Level.SUBACCOUNT
                account.save(update_fields=["parent", "level", "updated_at"])
            audit.succeeded(f"Parent: {parent.username if parent else 'none'}.")
    return parent


# --- credit --------------------------------------------------------------------------------------


@audits_refusals("creditview")
def credit_refresh(*, actor, account: BearSMSAccount) -> balances.Balance:
    """``creditview``: read the server's cached balance; 620 for an existing account means zero.

    The figure is kept as the server's cache; it becomes the base of the balance only when it
    does not contradict the ledger in the known 1.4.8 way (see ``accounts.balances``).
    """
    ensure_can(actor, "creditview", account)
    with audited(actor=actor, action="creditview", target=account) as audit:
        ledger_id = balances.last_ledger_id(account)
        zero_answer = False
        try:
            figure = audit.call("creditview", admin_client().credit_view, account.username)
        except api.ZeroCredit:
            _ensure_exists(audit, account.username)
            figure, zero_answer = Decimal(0), True
        verdict = balances.judge_server_figure(account, figure, zero_answer=zero_answer)
        with transaction.atomic():
            fields = balances.record_server_figure(
                account, figure, verdict, ledger_id=ledger_id, at=timezone.now()
            )
            account.save(update_fields=[*fields, "updated_at"])
            result = balances.balance_of(account)
            if verdict.unreliable:
                audit.note(f"server figure {figure} not believed: {verdict.note}")
            audit.succeeded(
                f"Server's cached balance {figure}"
                + (" (unreliable)" if verdict.unreliable else "")
                + f"; balance {result.balance if result.is_known else 'unknown'}."
            )
    return result


def _ledger(account, kind, amount, reason, actor, entry) -> CreditLedgerEntry:
    signed = amount if kind == CreditLedgerEntry.Kind.ADD else -amount
    return CreditLedgerEntry.objects.create(
        account=account,
        account_username=account.username,
        kind=kind,
        amount=signed,
        reason=reason,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_username=actor.get_username() if getattr(actor, "pk", None) else "",
        audit_entry=entry,
    )


def _change_credit(
    *, actor, account, amount, reason: str, kind: str, confirmed: bool = False
) -> CreditLedgerEntry:
    from .transfers import account_locks, check_overdraft, server_figure_live

    ensure_can(actor, f"credit{kind}", account)
    amount = _amount(amount)
    reason = (reason or "").strip()
    _require(bool(reason), "Give a reason (it goes into the ledger).", "reason")
    if kind == "deduct":
        check_overdraft(actor=actor, account=account, amount=amount, confirmed=confirmed)
    op = f"credit{kind}"
    method = admin_client().credit_add if kind == "add" else admin_client().credit_deduct
    params = {"amount": str(amount), "reason": reason}
    if confirmed:
        params["overdraft"] = "confirmed"
    with audited(actor=actor, action=op, target=account, params=params) as audit:
        _ensure_exists(audit, account.username)
        # The same lock as transfer steps, so their readings of the server are not muddled.
        with account_locks(account) as locked:
            _require(locked, "A credit move on this account is in progress: try again shortly.")
            if server_figure_live():  # what settles a lost answer (accounts.settling)
                params["figure_before"] = str(_figure(audit, account.username))
            audit.call(op, method, account.username, amount)
            with transaction.atomic():
                entry = audit.succeeded(f"{'Added' if kind == 'add' else 'Deducted'} {amount}.")
                return _ledger(account, kind, amount, reason, actor, entry)


@once_per_key("creditadd")
@audits_refusals("creditadd")
def credit_add(*, actor, account: BearSMSAccount, amount, reason: str) -> CreditLedgerEntry:
    """``creditadd`` (username checked first: an unknown one crashes the server)."""
    return _change_credit(actor=actor, account=account, amount=amount, reason=reason, kind="add")


@once_per_key("creditdeduct")
@audits_refusals("creditdeduct")
def credit_deduct(
    *, actor, account: BearSMSAccount, amount, reason: str, confirmed: bool = False
) -> CreditLedgerEntry:
    """``creditdeduct``. The server has no floor at zero; the portal has: below the available
    balance an operator must confirm (``confirmed``), anyone else is refused."""
    return _change_credit(
        actor=actor,
        account=account,
        amount=amount,
        reason=reason,
        kind="deduct",
        confirmed=confirmed,
    )


def credit_transfer(
    *,
    actor,
    source: BearSMSAccount,
    target: BearSMSAccount,
    amount,
    reason: str,
    key: str = "",
    form_key: str = "",
    confirmed: bool = False,
):
    """Transfer credit from ``source`` to ``target`` as a saga (``accounts.transfers``), run inline.

    ``form_key`` is the form's one-time key (``accounts.idempotency``); the transfer row keeps
    it (unique), so the same form posted twice is one transfer.

    Returns the :class:`~accounts.models.CreditTransfer`; if it could not finish here it is
    handed to a Celery task (see :func:`accounts.transfers.advance`).
    """
    from . import tasks, transfers

    transfer = transfers.request_transfer(
        actor=actor,
        source=source,
        target=target,
        amount=amount,
        reason=reason,
        key=form_key or key or uuid.uuid4().hex,
        confirmed=confirmed,
    )
    transfer = transfers.advance(transfer.pk)
    if not transfer.is_final and transfer.state != transfer.State.ATTENTION:
        tasks.advance_transfer.apply_async(args=[transfer.pk], countdown=2)
    return transfer


# --- tokens and web login ------------------------------------------------------------------------


ROTATION_LOST_REASON = (
    "The token was changed but the new one was lost in transit: link the "
    "account again with its password."
)


def _check_old_token(audit, account: BearSMSAccount) -> None:
    """After a ``set_token`` that PHP answered without a result (so it has finished): the old
    token still working proves the rotation did not happen; the old token refused means it did
    and the new token was lost, so the account is marked not linked. Either way the outcome is
    known; a server that cannot be read leaves it unknown (the caller re-raises)."""
    try:
        audit.call("query", client_for(account).query)
    except api.AuthenticationFailed:
        audit.note("set_token answered without a result; query refuses the old token")
        with transaction.atomic():
            account.token_encrypted = ""
            account.linked_at = None
            account.link_error = ROTATION_LOST_REASON
            account.save(update_fields=["token_encrypted", "linked_at", "link_error", "updated_at"])
            audit.failed(ROTATION_LOST_REASON)
        raise ServiceError(ROTATION_LOST_REASON) from None
    except api.BearSMSError:
        return  # cannot tell: the outcome stays unknown
    audit.note("set_token answered without a result; query accepts the old token")
    raise ServiceError("The BearSMS server failed and did not change the token; the old one works.")


@once_per_key("set_token")
@audits_refusals("set_token")
def token_rotate(*, actor, account: BearSMSAccount) -> BearSMSAccount:
    """``set_token``: mint a new token for the account and keep it (the old one dies at once).

    If the answer is lost, the old token may be dead and the new one unknown: the portal keeps
    the old token and checks it with ``query`` once the op can no longer be running (at once
    when PHP did answer, else through ``accounts.settling``); only when it is refused is the
    account marked not linked.
    """
    ensure_can(actor, "set_token", account)
    with audited(actor=actor, action="set_token", target=account) as audit:
        try:
            client = client_for(account)
        except AccountNotLinked:
            raise ServiceError("The account is not linked: link it first.") from None
        try:
            token = audit.call("set_token", client.set_token)
        except UNKNOWN_FAULTS as exc:
            if answer_is_final(exc):
                _check_old_token(audit, account)
            raise  # no answer: both tokens are kept in mind until accounts.settling asks
        with transaction.atomic():
            account.store_token(token)
            account.linked_at = timezone.now()
            account.save(update_fields=["token_encrypted", "linked_at", "updated_at"])
            audit.succeeded("Token rotated.")
    return account


@audits_refusals(AUTHRETRY)
def auth_retry_now(*, actor, username: str) -> str:
    """ "Try again now" (operators): the credentials of ``username`` that the auth guard holds
    back after a refusal are probed at once instead of after their cool-down — one call
    (``parentget`` for the admin credentials, ``query`` for an account's token); a password is
    let through at the next link attempt. Returns what happened, in words. The probe still
    needs room in the failure budget (see ``bearsms_portal.bearsms.auth``)."""
    ensure_can(actor, AUTHRETRY)
    account = BearSMSAccount.objects.filter(username=username).first()
    is_admin = username == settings.BEARSMS_ADMIN_USERNAME
    _require(is_admin or account is not None, f"There is no account “{username}” in the portal.")
    with audited(actor=actor, action=AUTHRETRY, target=account, target_username=username) as audit:
        scopes = {b["scope"] for b in guard_report()["blocked"] if b["username"] == username}
        if not AUTH_GUARD.make_due(guard_key(username)):
            audit.succeeded("Nothing was held back.")
            return "Nothing was held back: the portal uses these credentials."
        if scopes == {"password"}:
            audit.succeeded("The next link attempt is sent.")
            return "The next link attempt with this password is sent to BearSMS."
        try:
            if is_admin:
                audit.call("parentget", admin_client().account_exists, username)
            else:
                audit.call("query", client_for(account).query)
        except api.AuthBlocked:
            raise
        except (api.AuthenticationFailed, api.AdminAuthFailed):
            retry = [b["cooldown"] for b in guard_report()["blocked"] if b["username"] == username]
            wait = lag_words(max(retry, default=settings.BEARSMS_AUTH_COOLDOWN))
            raise ServiceError(
                f"BearSMS refused the credentials of {username} again. The portal tries them "
                f"once more in {wait}; fix them on the server, or link the account again."
            ) from None
        except (api.TransportError, api.ProtocolError) as exc:
            _, reason = explain(exc, op="query", username=username)
            raise ServiceError(f"{reason} The credentials stay held back.") from None
        except AccountNotLinked:
            raise ServiceError(f"{username} is not linked: link it with its password.") from None
        audit.succeeded("Signed in: the credentials are used again.")
    return "BearSMS accepted the credentials: the portal uses them again."


@audits_refusals("loginkeyset")
def open_in_bearsms(*, actor, account: BearSMSAccount) -> str:
    """``loginkeyset`` + ``ws_login``: the single sign-on URL to send the browser to.

    Refused for banned accounts (the server would log them in anyway). The username is checked
    first (an unknown one crashes the server). The URL holds a single-use key: redirect to it,
    never log or store it.
    """
    ensure_can(actor, "loginkeyset", account)
    _require(
        banned_by(account) is None,
        "This account is banned (or its reseller is): the portal does not open banned "
        "accounts in BearSMS.",
    )
    with audited(actor=actor, action="loginkeyset", target=account) as audit:
        _ensure_exists(audit, account.username)
        client = admin_client()
        key = audit.call("loginkeyset", client.login_key_set, account.username)
        url = client.ws_login_url(account.username, key)
        audit.step("ws_login", "URL handed to the browser")
        with transaction.atomic():
            audit.succeeded("Opened in BearSMS (ws_login).")
    return url


# --- server-wide tools ---------------------------------------------------------------------------


@once_per_key("inject")
@audits_refusals("inject")
def inject_message(*, actor, sender: str, message: str, recvnum: str = "", smsc: str = "") -> None:
    """``inject``: queue a test incoming SMS (lands in a keyword owner's ``in`` or in ``sx``)."""
    ensure_can(actor, "inject")
    sender, message = (sender or "").strip(), (message or "").strip()
    _require(bool(sender), "Enter the sender number.", "sender")
    sender = _number(sender, "sender")
    _require(bool(message), "Enter the message.", "message")
    with audited(
        actor=actor,
        action="inject",
        params={"from": sender, "message": message[:160], "recvnum": recvnum, "smsc": smsc},
    ) as audit:
        audit.call(
            "inject",
            admin_client().inject,
            sender,
            message,
            recvnum=recvnum or None,
            smsc=smsc or None,
        )
        audit.succeeded(f"Test SMS from {sender} queued{f' to {recvnum}' if recvnum else ''}.")


def stoplist_digits(raw: str) -> str:
    """A number as the stoplist holds it: its digits, no leading ``+`` (the server strips the
    ``+`` when storing but compares the text as sent, so ``+62…`` after ``62…`` would make a
    second row — reference §4.14). Typed local numbers are read as ``bearsms_portal.phone``
    does; nothing is cut."""
    return _number(raw, "number").lstrip("+")


@once_per_key("stoplist")
@audits_refusals("stoplist")
def stoplist_add(*, actor, number: str) -> StoplistNumber:
    """``stoplist``: add a number to the server's global stoplist, always in the form the
    server stores, and keep the portal's record of it. 627 (already there) is refused with its
    reason, and the number is recorded too (it is on the server's stoplist)."""
    ensure_can(actor, "stoplist")
    typed = (number or "").strip()
    number = stoplist_digits(typed)
    with audited(
        actor=actor, action="stoplist", params={"number": number, "typed": typed}
    ) as audit:
        try:
            audit.call("stoplist", admin_client().stoplist_add, number)
        except api.DuplicateStoplist:
            _record_stoplisted(actor, number, typed, already=True)
            raise
        except api.AuthenticationFailed as exc:  # a user-level op: bad admin token is 100
            raise ServiceError(ADMIN_CREDENTIALS, code=exc.code) from exc
        with transaction.atomic():
            entry = _record_stoplisted(actor, number, typed, already=False)
            audit.succeeded(f"{number} is on the stoplist.")
    return entry


def _record_stoplisted(actor, number: str, typed: str, *, already: bool) -> StoplistNumber:
    real = actor if getattr(actor, "pk", None) else None
    entry, _ = StoplistNumber.objects.get_or_create(
        number=number,
        defaults={
            "typed": typed[:100],
            "actor": real,
            "actor_username": real.get_username() if real else "",
            "already_on_server": already,
        },
    )
    return entry


# --- the user's own preferences ------------------------------------------------------------------


def profile_set_time_zone(*, actor, time_zone: str) -> PortalProfile:
    """Set the zone ``actor`` sees and types dates in; empty means the portal's TIME_ZONE.

    A staff user without a profile gets one with no role of its own (still an operator through
    the staff flag). Nothing on the server changes, so nothing is audited.
    """
    time_zone = (time_zone or "").strip()
    _require(
        not time_zone or zones.is_zone_name(time_zone),
        "Choose a time zone from the list.",
        "time_zone",
    )
    if not actor.is_authenticated:
        raise PermissionDenied("Not logged in")
    profile, _ = PortalProfile.objects.get_or_create(user=actor, defaults={"role": ""})
    profile.time_zone = time_zone
    profile.save(update_fields=["time_zone"])
    return profile


# --- portal-only settings ------------------------------------------------------------------------


@audits_refusals("accountthreshold")
def set_low_balance_threshold(*, actor, account: BearSMSAccount, threshold) -> BearSMSAccount:
    """The figure at or below which the reseller's home lists the account as low on credit."""
    ensure_can(actor, "accountthreshold", account)
    try:
        value = Decimal(str(threshold))
    except (InvalidOperation, ValueError):
        raise ServiceError("Enter a number.", field="low_balance_threshold") from None
    _require(value.is_finite(), "Enter a number.", "low_balance_threshold")
    with (
        audited(
            actor=actor, action="accountthreshold", target=account, params={"threshold": str(value)}
        ) as audit,
        transaction.atomic(),
    ):
        account.low_balance_threshold = value
        account.save(update_fields=["low_balance_threshold", "updated_at"])
        audit.succeeded(f"Low balance threshold {value}.")
    return account
