"""Domain errors of the accounts services, and the plain words for every BearSMS answer.

Services raise :class:`ServiceError` (or Django's ``PermissionDenied``); views show
``error.message`` next to ``error.field`` (or at the top of the form when ``field`` is None).
:func:`explain` turns a client exception into those words; it never includes a secret, since
client exceptions never hold one.
"""

from __future__ import annotations

import time

from bearsms_portal import bearsms as api

ADMIN_CREDENTIALS = (
    "The BearSMS server refused the admin credentials — check BEARSMS_ADMIN_USERNAME and "
    "BEARSMS_ADMIN_TOKEN (the token must belong to an administrator account, have webservices "
    "enabled and allow the portal's IP address)."
)


def linking_steps(username: str = "USERNAME") -> str:
    """Where BearSMS (playSMS 1.4.8) enables an account for the API: there is no "Webservices"
    menu; it is the User configuration page (server-findings, "Enabling webservices")."""
    return (
        "In BearSMS, log in as the account and open My account → User configuration (or, as "
        "an administrator, the same page for that user: index.php?app=main&inc=core_user"
        f"&route=user_config&op=user_config&uname={username}); tick “Enable webservices”, tick "
        "“Renew webservices token” if it has none, add the portal's IP address to "
        "“Webservices IP range”, save, then link again."
    )


#: What a new account can do in the BearSMS web interface on 1.4.8.
NEW_ACCOUNT_ACL = (
    "On BearSMS 1.4.8 a new account has an empty access-control list: opened in BearSMS it "
    "lands on the welcome page only, until an administrator gives it an ACL."
)


class ServiceError(Exception):
    """A business action could not be done. ``message`` is meant for people."""

    def __init__(self, message: str, *, field: str | None = None, code: int | None = None):
        self.message = message
        self.field = field
        self.code = code
        super().__init__(message)


class OutcomeUnknownError(ServiceError):
    """The server may or may not have applied the write; the audit entry says what we know."""


def _info(exc: api.BearSMSError) -> str:
    return (getattr(exc, "info", None) or "").strip()


def _account_add(exc, info: str, username: str) -> tuple[str | None, str]:
    low = info.lower()
    if "account already exists" in low:
        return "username", f"The username “{username}” is already taken on BearSMS."
    if "email already exists" in low:
        return "email", "That email address is already used by another BearSMS account."
    if "mobile already exists" in low:
        return "mobile", "That mobile number is already used by another BearSMS account."
    if "email format" in low:
        return "email", "The server did not accept this email address."
    if "password" in low:
        return "password", "The password is too short for the server (at least 4 characters)."
    if "username must be" in low:
        return "username", "A username must be 3 to 30 characters long."
    return None, f"The server refused to add the account: {info or 'no reason given'}."


def _in_words(retry_at: float | None) -> str:
    """``in 12 min`` for an epoch time (``later`` when unknown)."""
    if retry_at is None:
        return "later"
    from bearsms_portal.templatetags.portal_format import lag_words

    return f"in {lag_words(max(retry_at - time.time(), 1))}"


def explain(exc: BaseException, *, op: str = "", username: str = "") -> tuple[str | None, str]:
    """``(field, message)`` in plain words for a client exception raised by ``op``."""
    who = f"“{username}”" if username else "this account"
    info = _info(exc) if isinstance(exc, api.BearSMSError) else ""
    code = getattr(exc, "code", None)

    if isinstance(exc, api.AuthBudgetSpent):
        return None, (
            f"Not sent: BearSMS refused {exc.failures} sign-ins from the portal in the last few "
            "minutes, and blocks the portal's address for every account after about ten. "
            "Passwords and new tokens wait until "
            f"{_in_words(exc.retry_at)}; accounts that are already linked keep working."
        )
    if isinstance(exc, api.AuthBlocked):
        prefix = ADMIN_CREDENTIALS + " " if code == 600 else ""
        return None, prefix + (
            "The portal stopped using these credentials after the server refused them, so that "
            "repeated failures do not get the portal's IP address blocked. It tries them once "
            f"more {_in_words(exc.retry_at)} (an operator can try at once from the sync health "
            "page); fix the credentials, or link the account again."
        )
    if isinstance(exc, api.AdminAuthFailed):
        return None, ADMIN_CREDENTIALS
    if isinstance(exc, api.UnknownUserFatal):
        return None, f"There is no account {who} on the BearSMS server."
    if isinstance(exc, api.OutcomeUnknown):
        return None, (
            "The BearSMS server did not confirm the change: it may or may not have been applied. "
            "Check the account before trying again."
        )
    if isinstance(exc, api.Timeout):
        return None, "The BearSMS server did not answer in time. Nothing was confirmed."
    if isinstance(exc, api.TransportError):
        return None, "The BearSMS server could not be reached. Try again later."
    if isinstance(exc, api.ProtocolError):
        return None, (
            "The BearSMS server answered with an error page instead of a reply. "
            "Nothing was confirmed; check the account before trying again."
        )

    by_code: dict[int, tuple[str | None, str]] = {
        100: (
            None,
            "The server refused the credentials (wrong username or password, or the "
            "account or its reseller is banned).",
        ),
        104: (
            None,
            "The account has no webservices token yet. " + linking_steps(username or "USERNAME"),
        ),
        105: (
            None,
            "Webservices are not enabled for this account. "
            + linking_steps(username or "USERNAME"),
        ),
        106: (
            None,
            "The portal's IP address is not in the account's webservices IP range. "
            + linking_steps(username or "USERNAME"),
        ),
        602: (None, "Both the sender number and the message are required."),
        603: (None, "Username, password, name and email are all required."),
        605: (
            None,
            f"There is no account {who} on the BearSMS server "
            "(it may have been removed outside the portal).",
        ),
        607: ("parent", "The account or the new parent does not exist on the BearSMS server."),
        608: (
            "parent",
            "The new parent must be a reseller (user-level account) and different "
            "from the current one.",
        ),
        609: (None, f"There is no account {who} on the BearSMS server."),
        610: (None, f"{who.capitalize()} has no parent: it is not a subaccount."),
        611: (None, f"There is no account {who} on the BearSMS server."),
        612: (None, "The main administrator account cannot be banned."),
        613: (None, f"There is no account {who} on the BearSMS server."),
        614: (None, f"{who.capitalize()} is not banned."),
        615: (
            None,
            "Nothing to save: fill in at least one field (or the account does not "
            "exist on the server).",
        ),
        617: (
            None,
            "Nothing to save: no configuration value was given (or the account does "
            "not exist on the server).",
        ),
        618: (
            "sender",
            "The server refused this configuration: "
            f"{info or 'the sender ID is not registered to the account'}.",
        ),
        619: (None, "The username is missing."),
        620: (None, f"The server shows no credit for {who}."),
        621: (None, "The username is missing."),
        622: ("amount", "Enter an amount other than zero."),
        623: (None, "The username is missing."),
        624: ("amount", "Enter an amount other than zero."),
        625: (None, "The username is missing."),
        626: (None, "The server could not set a login key."),
        627: ("number", "That number is already on the stoplist (ERR 627); the portal lists it."),
    }
    if code == 604:
        return _account_add(exc, info, username)
    if code == 606:
        if "subuser" in info.lower():  # the server's word for a subaccount
            return None, f"Remove the subaccounts of {who} first."
        return None, f"The server refused to remove {who}: {info or 'no reason given'}."
    if code == 616:
        if not info or info.lower().startswith("fail to save"):
            return None, (
                "The server saved nothing: nothing changed, or the same change was "
                "sent twice within a second. Check the values and try again."
            )
        low = info.lower()
        field = (
            "email"
            if "email" in low
            else "mobile"
            if "mobile" in low
            else "password"
            if "password" in low
            else None
        )
        return field, f"The server refused the preferences: {info}."
    if code in by_code:
        return by_code[code]
    if isinstance(exc, api.BearSMSError) and code is not None:
        return None, f"The BearSMS server answered ERR {code}: {exc.message or info or op}."
    return None, "The BearSMS server could not do this."
