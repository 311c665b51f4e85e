"""Exceptions raised by the BearSMS client.

Everything the client raises derives from :class:`BearSMSError`, which carries the numeric
``code`` (``None`` when the server gave no ``ERR nnn``), the ``op`` and the server's own
``message`` text.  No exception ever contains a token, a password or a login key.

The tree::

    BearSMSError(code, op, message)
    ├── ApiError                      an ``ERR nnn`` answer; ``info`` holds the server's reason
    │   ├── AuthParamError            1xx
    │   │   ├── AuthenticationFailed  100  bad credentials (token, username, IP blacklist, ban)
    │   │   │   └── AuthBlocked       not sent: this token already failed (fail-fast, §2.6)
    │   │   │       └── AuthBudgetSpent  not sent: too many recent failures with this server
    │   │   ├── TokenNotAvailable     104  (get_token) the account has no token yet
    │   │   ├── WebservicesDisabled   105  (get_token) webservices are off for the account
    │   │   └── IPNotAllowed          106  (get_token) caller IP not in webservices_ip
    │   ├── SendError                 2xx
    │   │   ├── SendFailed            200  (per row of a #group send)
    │   │   └── EmptyDestinationOrMessage 201
    │   ├── DeliveryStatusError       4xx  ("no data" for ds; listings return [] instead)
    │   │   ├── NoDeliveryStatus      400
    │   │   ├── StillQueued           401
    │   │   └── ProcessedNoRows       402
    │   ├── NoDataError               5xx  (501; listings return [] instead)
    │   ├── AdminError                6xx
    │   │   ├── AdminAuthFailed       600  bad token, or the account is not an admin
    │   │   ├── MissingSenderOrMessage 601/602 (inject)
    │   │   ├── MissingData           603 615 617 619 621 623 625
    │   │   ├── AccountAddFailed      604  (reason in ``info``)
    │   │   ├── UnknownUser           605 607 609 611 613
    │   │   ├── AccountRemoveRefused  606
    │   │   ├── ParentUnchanged       608  parent not a user, or nothing changed
    │   │   ├── NoParent              610
    │   │   ├── BanRefused            612
    │   │   ├── NotBanned             614
    │   │   ├── AccountPrefFailed     616
    │   │   ├── AccountConfFailed     618
    │   │   ├── ZeroCredit            620  balance is exactly zero, or the user is unknown
    │   │   ├── InvalidAmount         622 624
    │   │   ├── LoginKeyFailed        626
    │   │   └── DuplicateStoplist     627
    │   └── UnknownCodeError          3xx and anything else
    ├── TransportError                refused, reset, TLS, DNS: nothing usable came back
    │   ├── Timeout
    │   └── UnexpectedRedirect        a 3xx (the server's "blocked" page, a proxy…)
    ├── OutcomeUnknown                a write that may or may not have been applied
    ├── ProtocolError                 a body that is not the protocol (``excerpt`` is redacted)
    │   ├── UnknownOp                 empty 200 ``text/html``
    │   ├── DatabaseFatal             200 "FATAL ERROR : Database query execution has failed"
    │   │   └── UnknownUserFatal      …on creditadd/creditdeduct/loginkeyset: unknown user
    │   ├── MalformedResponse         truncated or unparsable JSON/XML, unexpected shape
    │   └── ServerError               HTTP 5xx
    │       └── SendRejected          pv answered HTTP 500: nothing was queued (§4.1.8)
    └── InvalidDestination            (also a ValueError) refused client-side, nothing sent

``UnknownUserFatal`` is also an :class:`UnknownUser`; ``SendRejected`` is also a
:class:`SendError`; ``InvalidDestination`` is also a :class:`ValueError`.

"No rows" answers (400, 401, 402, 501) are returned as empty lists by the listing methods;
they are only raised by :meth:`Client.call` and when a listing is asked to be strict.
"""

from __future__ import annotations

__all__ = [
    "BearSMSError",
    "ApiError",
    "AuthParamError",
    "AuthenticationFailed",
    "AuthBlocked",
    "AuthBudgetSpent",
    "TokenNotAvailable",
    "WebservicesDisabled",
    "IPNotAllowed",
    "SendError",
    "SendFailed",
    "EmptyDestinationOrMessage",
    "DeliveryStatusError",
    "NoDeliveryStatus",
    "StillQueued",
    "ProcessedNoRows",
    "NoDataError",
    "AdminError",
    "AdminAuthFailed",
    "MissingSenderOrMessage",
    "MissingData",
    "AccountAddFailed",
    "UnknownUser",
    "AccountRemoveRefused",
    "ParentUnchanged",
    "NoParent",
    "BanRefused",
    "NotBanned",
    "AccountPrefFailed",
    "AccountConfFailed",
    "ZeroCredit",
    "InvalidAmount",
    "LoginKeyFailed",
    "DuplicateStoplist",
    "UnknownCodeError",
    "TransportError",
    "Timeout",
    "UnexpectedRedirect",
    "OutcomeUnknown",
    "ProtocolError",
    "UnknownOp",
    "DatabaseFatal",
    "UnknownUserFatal",
    "MalformedResponse",
    "ServerError",
    "SendRejected",
    "InvalidDestination",
    "NO_DATA_CODES",
    "error_for_code",
]

#: ``ERR`` codes that mean "no rows" rather than failure (§3.4, §5.2 item 7).
NO_DATA_CODES = frozenset({400, 401, 402, 501})


class BearSMSError(Exception):
    """Root of every client error: ``code`` (int or None), ``op`` and the server's ``message``."""

    def __init__(self, code: int | None = None, op: str = "", message: str = "", **extra):
        self.code = code
        self.op = op
        self.message = message
        for name, value in extra.items():
            setattr(self, name, value)
        super().__init__(code, op, message)

    def __str__(self) -> str:
        info = getattr(self, "info", None)
        detail = [f"ERR {self.code}"] if self.code is not None else []
        detail += [self.message] if self.message else []
        detail += [f"({info})"] if info else []
        return f"{self.op or 'bearsms'}: {' '.join(detail)}" if detail else (self.op or "bearsms")

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, op={self.op!r}, message={self.message!r})"
        )


# --- ERR nnn answers --------------------------------------------------------------------------


class ApiError(BearSMSError):
    """The server answered ``{"status": "ERR", "error": "nnn"}``. ``info`` is its reason text."""

    info: str | None = None


class AuthParamError(ApiError):
    """1xx: authentication or parameter error."""


class AuthenticationFailed(AuthParamError):
    """100: wrong token or username, disabled webservices, IP not allowed or blacklisted, ban.

    Never retried: about eleven failures from one IP blacklist that IP for every account.
    """


class AuthBlocked(AuthenticationFailed):
    """Not sent: this account's current token (or password) already failed authentication.

    Raised by the auth guard (:mod:`.auth`) until the token changes, the failure is cleared
    with :meth:`Client.clear_auth_failure`, or its probe after the cool-down succeeds.
    ``retry_at`` (epoch seconds) is when it may be sent again.
    """

    retry_at: float | None = None


class AuthBudgetSpent(AuthBlocked):
    """Not sent: the failures allowed per window with this server are spent, and this
    credential has not worked before (a password, a new token, a probe). ``retry_at``: when
    the budget has room again; ``failures``: how many were counted."""

    failures: int = 0


class TokenNotAvailable(AuthParamError):
    """104 (get_token only): password right, but the account has no webservices token yet."""


class WebservicesDisabled(AuthParamError):
    """105 (get_token only): webservices are not enabled for the account."""


class IPNotAllowed(AuthParamError):
    """106 (get_token only): the caller's IP is not in the account's webservices_ip list."""


class SendError(ApiError):
    """2xx: sending failed."""


class SendFailed(SendError):
    """200: one destination was rejected (a per-row error of a ``#group`` send)."""


class EmptyDestinationOrMessage(SendError):
    """201: ``to`` or ``msg`` is empty (or ``"0"``) after the server's sanitising."""


class DeliveryStatusError(ApiError):
    """4xx: no delivery status. Listings turn these into an empty list."""


class NoDeliveryStatus(DeliveryStatusError):
    """400: no matching rows (and ``queue``, if given, names no waiting/finished queue)."""


class StillQueued(DeliveryStatusError):
    """401: the queue is still waiting (or scheduled); nothing dispatched yet."""


class ProcessedNoRows(DeliveryStatusError):
    """402: the queue was processed but no row matches."""


class NoDataError(ApiError):
    """5xx: no data (501 from ``in``/``ix``/``sx``). Listings turn it into an empty list."""


class AdminError(ApiError):
    """6xx: an administrative op failed; ``info`` often carries the server's reason."""


class AdminAuthFailed(AdminError):
    """600: bad token, or a valid token of an account that is not an administrator."""


class MissingSenderOrMessage(AdminError):
    """601/602 (inject): ``from`` or ``msg`` empty."""


class MissingData(AdminError):
    """603, 615, 617, 619, 621, 623, 625: required data missing (or unknown user for 615/617)."""


class AccountAddFailed(AdminError):
    """604: validation or DB failure adding an account; the reason is in ``info``."""


class UnknownUser(AdminError):
    """605, 607, 609, 611, 613: the named account does not exist (or is removed)."""


class AccountRemoveRefused(AdminError):
    """606: uid 1 is immune, or the account still has subaccounts (see ``info``)."""


class ParentUnchanged(AdminError):
    """608: the parent is not a status-3 user, or nothing changed (same parent already set)."""


class NoParent(AdminError):
    """610: the account is not a subaccount or has no valid parent."""


class BanRefused(AdminError):
    """612: the main administrator (uid 1) cannot be banned."""


class NotBanned(AdminError):
    """614: the account is not banned (treat as "already unbanned" if that was the intent)."""


class AccountPrefFailed(AdminError):
    """616: preference validation failed (``info``), or nothing changed."""


class AccountConfFailed(AdminError):
    """618: configuration failed, e.g. ``info="Invalid sender ID"``."""


class ZeroCredit(AdminError):
    """620: creditview refuses a balance of exactly zero; also the answer for an unknown user."""


class InvalidAmount(AdminError):
    """622/624: the amount is zero, missing or not numeric."""


class LoginKeyFailed(AdminError):
    """626: setting the login key failed (never emitted by 1.4.8)."""


class DuplicateStoplist(AdminError):
    """627: the exact number is already on the stoplist (the server sends no text for it)."""


class UnknownCodeError(ApiError):
    """An ``ERR`` code the client does not know, outside every known class (e.g. 3xx)."""


# --- transport and protocol faults -------------------------------------------------------------


class TransportError(BearSMSError):
    """The request failed below HTTP: refused, reset, DNS, TLS. ``code`` is None."""


class Timeout(TransportError):
    """No complete answer within the timeout."""


class UnexpectedRedirect(TransportError):
    """A 3xx answer where the protocol has none (the "blocked" page, a proxy, wrong URL)."""

    location: str = ""


class OutcomeUnknown(BearSMSError):
    """A write whose request may have reached the server: it may or may not have been applied.

    Never retried automatically. Check the state (e.g. ``parent_get``, ``delivery_status``)
    before trying again. ``__cause__`` holds the underlying fault.
    """


class ProtocolError(BearSMSError):
    """The body is not the protocol. ``excerpt`` is a short, redacted start of the body."""

    excerpt: str = ""
    http_status: int | None = None


class UnknownOp(ProtocolError):
    """HTTP 200 with an empty ``text/html`` body: the server does not know the op."""


class DatabaseFatal(ProtocolError):
    """HTTP 200 ``FATAL ERROR : Database query execution has failed`` (a DB exception)."""


class UnknownUserFatal(DatabaseFatal, UnknownUser):
    """The DB fatal that creditadd/creditdeduct/loginkeyset give for an unknown username."""


class MalformedResponse(ProtocolError):
    """Truncated, non-JSON/XML, or a JSON/XML document of an unexpected shape."""


class ServerError(ProtocolError):
    """HTTP 5xx (usually a PHP fatal with an empty body)."""


class SendRejected(ServerError, SendError):
    """pv answered HTTP 500: nothing was queued (bad or stoplisted number, no credit, bad
    ``@user``/``#group``). Deterministic: do not retry blindly."""


class InvalidDestination(BearSMSError, ValueError):
    """A destination refused client-side (nothing was sent), or a reply whose echoed ``to``
    does not match what was asked (``results`` then holds what the server did)."""


# --- code → class ------------------------------------------------------------------------------

_SPECIFIC: dict[int, type[ApiError]] = {
    100: AuthenticationFailed,
    104: TokenNotAvailable,
    105: WebservicesDisabled,
    106: IPNotAllowed,
    200: SendFailed,
    201: EmptyDestinationOrMessage,
    400: NoDeliveryStatus,
    401: StillQueued,
    402: ProcessedNoRows,
    501: NoDataError,
    600: AdminAuthFailed,
    601: MissingSenderOrMessage,
    602: MissingSenderOrMessage,
    603: MissingData,
    604: AccountAddFailed,
    605: UnknownUser,
    606: AccountRemoveRefused,
    607: UnknownUser,
    608: ParentUnchanged,
    609: UnknownUser,
    610: NoParent,
    611: UnknownUser,
    612: BanRefused,
    613: UnknownUser,
    614: NotBanned,
    615: MissingData,
    616: AccountPrefFailed,
    617: MissingData,
    618: AccountConfFailed,
    619: MissingData,
    620: ZeroCredit,
    621: MissingData,
    622: InvalidAmount,
    623: MissingData,
    624: InvalidAmount,
    625: MissingData,
    626: LoginKeyFailed,
    627: DuplicateStoplist,
}

_BY_CLASS: dict[int, type[ApiError]] = {
    1: AuthParamError,
    2: SendError,
    4: DeliveryStatusError,
    5: NoDataError,
    6: AdminError,
}


def error_for_code(code: int) -> type[ApiError]:
    """The exception class for an ``ERR`` code; unknown codes map by their hundreds digit."""
    if code in _SPECIFIC:
        return _SPECIFIC[code]
    return _BY_CLASS.get(code // 100, UnknownCodeError)
