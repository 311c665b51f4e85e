"""An account's configuration (``accountconf``) as far as the portal knows it.

No op reads an account's configuration back, and ``accountconf`` rewrites every field it is
given and *clears footer and sender when they are omitted* (``../shared/bearsms-api.md`` §4.22).
Sending what the portal merely assumed once wiped a real admin's footer, sender ID and
forwarding. So the portal records, per field, whether it *knows* the server's value
(``BearSMSAccount.conf_known``): set by the portal, or the documented default of an account the
portal created. A change sends only the fields that changed, plus footer and sender — which
must therefore be known, or typed by the user.
"""

from __future__ import annotations

FIELDS = (
    "sender",
    "footer",
    "timezone",
    "language",
    "fwd_to_inbox",
    "fwd_to_email",
    "fwd_to_mobile",
    "local_length",
    "replace_zero",
)
#: Rewritten by every accountconf (cleared when left out), so always sent.
ALWAYS_SENT = ("footer", "sender")
#: The server ignores an empty value for these, so they cannot be cleared once set.
NOT_CLEARABLE = ("timezone", "language", "replace_zero")
BOOLEANS = ("fwd_to_inbox", "fwd_to_email", "fwd_to_mobile")

UNKNOWN_FOOTER = (
    "The server's current footer cannot be read through the API — type it, or open the "
    "account in BearSMS to see it."
)
UNKNOWN_SENDER = (
    "The server's current sender ID cannot be read through the API — type it, or open the "
    "account in BearSMS to see it."
)
UNKNOWN_MESSAGES = {"footer": UNKNOWN_FOOTER, "sender": UNKNOWN_SENDER}


def new_account_defaults(username: str) -> dict:
    """What ``accountadd`` stores on playSMS 1.4.8 (``../shared/server-findings.md``, "Configuration
    of a new account"); the sandbox creates accounts with the same values."""
    return {
        "sender": "",
        "footer": f"@{username}",
        "timezone": "",
        "language": "",
        "fwd_to_inbox": True,
        "fwd_to_email": True,
        "fwd_to_mobile": False,
        "local_length": 9,
        "replace_zero": "",
    }


def conf_arguments(values: dict) -> dict:
    """The client's ``account_conf`` keywords for the values a change sends (footer and sender
    always; an empty optional value is left out rather than sent as a clear)."""
    return {
        "footer": values["footer"],
        "sender": values["sender"],
        "timezone": values.get("timezone") or None,
        "language": values.get("language") or None,
        "fwd_to_inbox": values.get("fwd_to_inbox"),
        "fwd_to_email": values.get("fwd_to_email"),
        "fwd_to_mobile": values.get("fwd_to_mobile"),
        "local_length": values.get("local_length"),
        "replace_zero": values.get("replace_zero") or None,
    }


def known_fields(account) -> set[str]:
    return set(account.conf_known or ()) & set(FIELDS)


def is_known(account, field: str) -> bool:
    return field in known_fields(account)


def known_values(account) -> dict:
    """``{field: value}`` for the known fields only (the form's initial values)."""
    return {field: getattr(account, field) for field in FIELDS if is_known(account, field)}


LABELS = {
    "sender": "Sender ID",
    "footer": "Footer",
    "timezone": "Time zone",
    "language": "Language",
    "fwd_to_inbox": "Forward to inbox",
    "fwd_to_email": "Forward to email",
    "fwd_to_mobile": "Forward to mobile",
    "local_length": "Local length",
    "replace_zero": "Replace leading 0 with",
}


def display(account) -> list[tuple[str, object, bool]]:
    """``(label, value, known)`` for every field, in form order (the account page)."""
    known = known_fields(account)
    rows = []
    for field in FIELDS:
        value = getattr(account, field)
        if field in BOOLEANS:
            value = "on" if value else "off"
        elif field == "timezone" and not value:
            value = "the server's zone"
        elif field == "local_length":
            value = str(value)
        rows.append((LABELS[field], value, field in known))
    return rows
