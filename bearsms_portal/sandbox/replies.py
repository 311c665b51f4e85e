"""What an op hands back to the dispatcher, and the server's error texts.

An op returns a plain ``dict`` (the result before the envelope) or one of the non-envelope
replies below. Services raise :class:`DatabaseFatal` or :class:`PhpFatal` where the real server
dies with a DB exception or a PHP fatal error.
"""

from __future__ import annotations

from dataclasses import dataclass

ERROR_STRINGS = {
    "100": "authentication failed",
    "101": "type of action is invalid or unknown",
    "102": "one or more field empty",
    "103": "not enough credit for this operation",
    "104": "webservice token is not available",
    "105": "webservice token not enable for this user",
    "106": "webservice token not allowed from this IP address",
    "200": "send message failed",
    "201": "destination number or message is empty",
    "400": "no delivery status available",
    "401": "no delivery status retrieved and SMS still in queue",
    "402": "no delivery status retrieved and SMS has been processed from queue",
    "501": "no data returned or result is empty",
    "600": "admin level authentication failed",
    "601": "inject message failed",
    "602": "sender id or message is empty",
    "603": "account addition failed due to missing data",
    "604": "fail to add account",
    "605": "account removal failed due to unknown username",
    "606": "fail to remove account",
    "607": "set parent failed due to unknown username",
    "608": "fail to set parent",
    "609": "get parent failed due to unknown username",
    "610": "fail to get parent",
    "611": "account ban failed due to unknown username",
    "612": "fail to ban account",
    "613": "account unban failed due to unknown username",
    "614": "fail to unban account",
    "615": "editing account preferences failed due to missing data",
    "616": "fail to edit account preferences",
    "617": "editing account configuration failed due to missing data",
    "618": "fail to edit account configuration",
    "619": "viewing credit failed due to missing data",
    "620": "fail to view credit",
    "621": "adding credit failed due to missing data",
    "622": "fail to add credit",
    "623": "deducting credit failed due to missing data",
    "624": "fail to deduct credit",
    "625": "setting login key failed due to missing data",
    "626": "fail to set login key",
}

FATAL_TEXT = "FATAL ERROR : Database query execution has failed"


def err(code: str | int, **extra) -> dict:
    """``{"status":"ERR","error":"nnn", ...extra}`` (the envelope is added later)."""
    return {"status": "ERR", "error": str(code), **extra}


def ok(**extra) -> dict:
    return {"status": "OK", "error": "0", **extra}


def with_envelope(result: dict, timestamp: int) -> dict:
    """Append `error_string` and `timestamp`, always as the last two keys."""
    body = {k: v for k, v in result.items() if k not in ("error_string", "timestamp")}
    code = str(body.get("error", ""))
    body["error_string"] = ERROR_STRINGS.get(code) if code not in ("", "0") else None
    body["timestamp"] = timestamp
    return body


@dataclass
class Raw:
    """A reply outside the envelope: empty 500, FATAL text, empty 200 for unknown ops."""

    status: int = 200
    body: str = ""
    content_type: str = "text/html; charset=UTF-8"


@dataclass
class Redirect:
    location: str
    session_id: str | None = None  # a logged-in web session to hand out as PHPSESSID


EMPTY_500 = Raw(status=500)
UNKNOWN_OP = Raw(status=200)
FATAL = Raw(status=200, body=FATAL_TEXT)


class PhpFatal(Exception):
    """The real server dies with a PHP fatal error here: HTTP 500, empty body."""


class DatabaseFatal(Exception):
    """The real server aborts with a DB exception: HTTP 200 and the FATAL text."""
