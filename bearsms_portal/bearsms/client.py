"""The BearSMS client: one method per webservices op (table in the package docstring).

Transport rules, all taken from the real server's behaviour (``bearsms-api.md``):

- ``POST {base_url}/index.php?app=ws`` with every other parameter (``op``, ``u``, ``h``…) in
  the form body, so credentials never appear in a URL that a proxy or access log records.
  ``app=ws`` must stay in the query string (§1.1). ``method="GET"`` exists for debugging
  only; urllib3's request log lines are redacted by a filter this module installs.
- One pooled :class:`requests.Session` per client; cookies are refused (every reply sets a
  new ``PHPSESSID``, and a web-session cookie would change the server's behaviour), redirects
  are not followed (a 3xx is the "blocked" page or a misconfigured URL).
- Reads are retried on transport faults and HTTP 5xx with full-jitter exponential backoff,
  bounded by ``retries`` and ``backoff_max``. Writes are retried only when the connection
  could not even be opened; once a write may have reached the server, a failure raises
  :class:`OutcomeUnknown` instead.
- After an authentication failure (ERR 100, or 600 on admin ops) the same username + token is
  refused locally (:class:`AuthBlocked`) until the token changes: the real server blacklists
  an IP for *every* account after ~10 failed attempts, so one stale token must not lock the
  portal out. The guard is process-wide by default; pass ``auth_guard=`` to share it.
- The token is kept in a :class:`Secret` and never appears in ``repr``, logs or exceptions.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import random
import re
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import urlencode

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NameResolutionError, NewConnectionError

from . import errors as e
from . import wire
from .paging import scan_after
from .records import (
    AccountAdded,
    AccountStatus,
    AccountSummary,
    AdminResult,
    Contact,
    ContactGroup,
    CreditChange,
    DeliveryStatus,
    InboxMessage,
    IncomingMessage,
    OutgoingMessage,
    ParentInfo,
    SandboxMessage,
    SentMessage,
)

__all__ = ["Client", "InMemoryAuthGuard", "Secret", "READ_OPS", "ADMIN_OPS"]

logger = logging.getLogger(__name__)

#: ops that change nothing on the server: safe to retry.
READ_OPS = frozenset(
    {
        "ds",
        "in",
        "ix",
        "sx",
        "cr",
        "get_token",
        "get_contact",
        "get_contact_group",
        "query",
        "parentget",
        "creditview",
    }
)
#: ops authenticated as administrator (ERR 600 on any auth failure).
ADMIN_OPS = frozenset(
    {
        "inject",
        "accountadd",
        "accountremove",
        "parentset",
        "parentget",
        "accountban",
        "accountunban",
        "accountpref",
        "accountconf",
        "creditview",
        "creditadd",
        "creditdeduct",
        "loginkeyset",
    }
)
_FATAL_MEANS_UNKNOWN_USER = frozenset({"creditadd", "creditdeduct", "loginkeyset"})
_USERNAME_IN_INFO = re.compile(r"\(username: ([^)]*)\)")


class Secret:
    """A credential that prints as ``***``. ``reveal()`` returns the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str | None):
        self._value = value or ""

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('***')" if self._value else "Secret('')"

    __str__ = __repr__

    def fingerprint(self) -> str:
        return hashlib.sha256(self._value.encode()).hexdigest()[:16]


class InMemoryAuthGuard:
    """Remembers, per (server, username), which credential last failed authentication.

    ``scope`` is ``"token"`` (ERR 100: blocks every token op), ``"admin"`` (ERR 600: blocks
    admin ops) or ``"password"`` (``get_token`` ERR 100). Only a fingerprint is kept.
    Any object with these four methods can replace it (e.g. one backed by a shared cache).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failed: dict[tuple[str, str], dict[str, str]] = {}

    def is_blocked(self, key: tuple[str, str], fingerprint: str, scopes: Iterable[str]) -> bool:
        with self._lock:
            failed = self._failed.get(key, {})
            return any(failed.get(scope) == fingerprint for scope in scopes)

    def record_failure(self, key: tuple[str, str], fingerprint: str, scope: str) -> None:
        with self._lock:
            self._failed.setdefault(key, {})[scope] = fingerprint

    def record_success(self, key: tuple[str, str], fingerprint: str, scope: str) -> None:
        with self._lock:
            failed = self._failed.get(key)
            if failed and failed.get(scope) == fingerprint:
                del failed[scope]

    def clear(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._failed.pop(key, None)


DEFAULT_AUTH_GUARD = InMemoryAuthGuard()


class _RejectAllCookies(DefaultCookiePolicy):
    def set_ok(self, cookie, request):  # noqa: D102
        return False

    def return_ok(self, cookie, request):  # noqa: D102
        return False


class _RedactURLs(logging.Filter):
    """Redacts credentials from urllib3's request lines (they include the query string)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(
                wire.redact(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        if isinstance(record.msg, str):
            record.msg = wire.redact(record.msg)
        return True


_urllib3_log = logging.getLogger("urllib3.connectionpool")
if not any(isinstance(f, _RedactURLs) for f in _urllib3_log.filters):
    _urllib3_log.addFilter(_RedactURLs())


def _wire_value(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


_NUMBER_CHARS = re.compile(r"[\s\-().]")


def _clean_destination(destination: str) -> str:
    """Validate one ``pv`` destination client-side and return what to send.

    ``@username`` and ``#group`` pass through; a phone number may contain spaces, dashes,
    dots and brackets, and must then be an optional ``+`` and 1–15 characters in all
    (the server cuts longer numbers to 15 characters and sends to whatever is left).
    """
    text = str(destination).strip()
    if text.startswith("@"):
        if not re.fullmatch(r"@[a-z0-9._-]+", text):
            raise e.InvalidDestination(None, "pv", f"invalid @username destination {text!r}")
        return text
    if text.startswith("#"):
        if not re.fullmatch(r"#[A-Za-z0-9_-]{2,}", text):
            raise e.InvalidDestination(None, "pv", f"invalid #group destination {text!r}")
        return text
    number = _NUMBER_CHARS.sub("", text)
    if not re.fullmatch(r"\+?\d+", number) or len(number) > 15:
        raise e.InvalidDestination(
            None, "pv", f"invalid number {text[:20]!r}: digits and an optional +, at most 15"
        )
    return number


def _echo_matches(asked: str, echoed: str) -> bool:
    """Does the server's normalised ``to`` correspond to ``asked`` (§4.1.3)?

    The server may replace a leading ``0`` by the account's prefix (``0811…`` → ``62811…``),
    prepend the prefix to a local-length number, and add or remove a ``+``.
    """
    if asked.startswith(("@", "#")):
        return echoed == asked if asked.startswith("@") else bool(echoed)
    a, b = asked.lstrip("+"), echoed.lstrip("+")
    if not b.isdigit():
        return False
    if a == b:
        return True
    if a.startswith("0") and len(a) > 1 and b.endswith(a[1:]) and len(b) > len(a[1:]):
        return True
    return b.endswith(a) and len(b) > len(a)


class Client:
    """A BearSMS account's view of the API. See the package docstring for the op table.

    :param base_url: the address before ``/index.php`` (``https://app.bearsms.com``,
        ``http://127.0.0.1:8000/sandbox``).
    :param username: the account (lowercase; the server refuses ``Alice``).
    :param token: the webservices token (``h``); may be ``None`` until :meth:`get_token`.
    :param timeout: seconds for connecting and for reading each answer.
    :param method: ``"POST"`` (default; credentials in the body) or ``"GET"``.
    :param tz_offset: the server's ``gateway_timezone`` (``"+0700"`` as shipped).
    :param server_tz_offset: the server's PHP clock offset; defaults to ``tz_offset`` (a
        consistent deployment). The captures were made with ``"+0000"`` and ``"+0700"``.
    :param account_tz_offset: this account's ``datetime_timezone`` if it has one (used to
        express ``schedule``); defaults to ``tz_offset``.
    :param format: ``"json"`` (default; XML loses any text containing ``&``), ``"xml"`` or
        ``"serialize"``.
    :param destinations_per_request: how many ``pv`` destinations to join with commas in one
        request. Keep 1 for playSMS 1.4.8, which mangles lists into one bogus number.
    :param retries: extra attempts for reads after a transport fault or HTTP 5xx.
    :param backoff: base delay in seconds (full jitter, doubled per attempt).
    :param backoff_max: cap of one delay.
    :param page_size: ``c`` used by the ``iter_*`` methods.
    :param auth_guard: fail-fast store (default: one per process).
    :param session: a ``requests.Session`` to use instead of a new pooled one.
    """

    def __init__(
        self,
        base_url: str,
        username: str,
        token: str | None = None,
        *,
        timeout: float = 15.0,
        method: str = "POST",
        tz_offset: str | timedelta | int = "+0700",
        server_tz_offset: str | timedelta | int | None = None,
        account_tz_offset: str | timedelta | int | None = None,
        format: str = "json",  # noqa: A002 (the server's parameter name)
        destinations_per_request: int = 1,
        retries: int = 2,
        backoff: float = 0.25,
        backoff_max: float = 4.0,
        page_size: int = 500,
        auth_guard: Any = None,
        session: requests.Session | None = None,
        verify: bool | str = True,
    ):
        if method.upper() not in ("POST", "GET"):
            raise ValueError("method must be POST or GET")
        if format not in ("json", "xml", "serialize"):
            raise ValueError("format must be json, xml or serialize")
        if destinations_per_request < 1:
            raise ValueError("destinations_per_request must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.endpoint = self.base_url + "/index.php"
        self.username = username
        self._token = Secret(token)
        self.timeout = timeout
        self.method = method.upper()
        self.format = format
        self.destinations_per_request = destinations_per_request
        self.retries = max(0, retries)
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.page_size = page_size
        self.verify = verify
        self.auth_guard = auth_guard if auth_guard is not None else DEFAULT_AUTH_GUARD
        gateway = wire.parse_offset(tz_offset)
        server = wire.parse_offset(server_tz_offset) if server_tz_offset is not None else gateway
        account = wire.parse_offset(account_tz_offset) if account_tz_offset is not None else gateway
        gmt0 = server - wire.clamp_playsms_offset(gateway)
        #: offset of ds dt/update ("GMT+0": UTC on a consistent server)
        self.outgoing_offset = gmt0
        #: offset of in/sx dt and non-internal ix dt (the server's local clock)
        self.incoming_offset = server
        #: offset of ix dt for @user messages (shifted back by the sender's zone, assumed
        #: to be the gateway's)
        self.internal_offset = gmt0 - wire.clamp_playsms_offset(gateway)
        #: offset in which ``schedule`` is written
        self.schedule_offset = gmt0 + wire.clamp_playsms_offset(account)
        #: the server's clock from the last envelope (estimate skew with it)
        self.last_server_time: datetime | None = None
        self._session = session or self._new_session()

    # --- plumbing -----------------------------------------------------------------------------

    @staticmethod
    def _new_session() -> requests.Session:
        session = requests.Session()
        session.cookies.set_policy(_RejectAllCookies())
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.headers["User-Agent"] = "bearsms-portal-client/1"
        return session

    @property
    def token(self) -> str:
        """The current token (a plain string: keep it out of logs)."""
        return self._token.reveal()

    @token.setter
    def token(self, value: str | None) -> None:
        self._token = Secret(value)

    def __repr__(self) -> str:
        token = "set" if self._token else "none"
        return f"<Client {self.base_url!r} user={self.username!r} token={token}>"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @property
    def _guard_key(self) -> tuple[str, str]:
        return (self.endpoint, self.username.lower())

    def clear_auth_failure(self) -> None:
        """Forget an authentication failure for this account (e.g. after an admin fixed its
        IP list or enabled webservices without changing the token)."""
        self.auth_guard.clear(self._guard_key)

    def _secrets(self, params: dict[str, Any]) -> list[str]:
        found = [self._token.reveal()]
        for name in ("p", "h", "login_key", "data_password"):
            if params.get(name):
                found.append(str(params[name]))
        return found

    def _sleep_before_retry(self, attempt: int) -> None:
        cap = min(self.backoff_max, self.backoff * (2**attempt))
        if cap > 0:
            time.sleep(random.uniform(0, cap))

    def _send(self, op: str, params: dict[str, Any]) -> requests.Response:
        """One HTTP exchange; raises requests exceptions unchanged."""
        fields = {"op": op, "u": self.username}
        if "p" not in params and op != "ws_login":
            fields["h"] = self._token.reveal()
        fields.update({k: _wire_value(v) for k, v in params.items() if v is not None})
        if self.format != "json" and "format" not in fields:
            fields["format"] = self.format
        if self.method == "POST":
            return self._session.post(
                self.endpoint,
                params={"app": "ws"},
                data=fields,
                timeout=self.timeout,
                allow_redirects=False,
                verify=self.verify,
            )
        return self._session.get(
            self.endpoint,
            params={"app": "ws", **fields},
            timeout=self.timeout,
            allow_redirects=False,
            verify=self.verify,
        )

    @staticmethod
    def _never_sent(exc: requests.RequestException) -> bool:
        """True when the request certainly did not reach the server (connect phase)."""
        if isinstance(exc, requests.ConnectTimeout):
            return True
        reason = exc.args[0] if exc.args else None
        reason = getattr(reason, "reason", reason)
        return isinstance(reason, NewConnectionError | NameResolutionError)

    def _exchange(self, op: str, params: dict[str, Any], *, write: bool) -> requests.Response:
        """Send with the retry policy; returns a non-5xx response (or the last 5xx of a read)."""
        secrets = self._secrets(params)
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                response = self._send(op, params)
            except requests.RequestException as exc:
                elapsed = (time.monotonic() - started) * 1000
                detail = wire.redact(f"{type(exc).__name__}: {exc}", secrets)[:200]
                sent = not self._never_sent(exc)
                logger.warning(
                    "bearsms %s user=%s transport fault after %.0f ms (attempt %d): %s",
                    op,
                    self.username,
                    elapsed,
                    attempt + 1,
                    detail,
                )
                if write and sent:
                    raise e.OutcomeUnknown(
                        None, op, f"the request may have been applied ({type(exc).__name__})"
                    ) from None
                if attempt < self.retries:
                    attempt += 1
                    self._sleep_before_retry(attempt)
                    continue
                if isinstance(exc, requests.Timeout):
                    raise e.Timeout(None, op, f"no answer within {self.timeout}s") from None
                raise e.TransportError(None, op, detail) from None
            elapsed = (time.monotonic() - started) * 1000
            logger.info(
                "bearsms %s user=%s http=%s %.0f ms",
                op,
                self.username,
                response.status_code,
                elapsed,
            )
            if response.status_code >= 500 and not write and attempt < self.retries:
                attempt += 1
                self._sleep_before_retry(attempt)
                continue
            return response

    def _envelope(self, op: str, params: dict[str, Any], *, write: bool) -> dict[str, Any]:
        """Run ``op`` and return the parsed envelope; raise the typed error otherwise."""
        op = op.strip().lower()
        scopes, fingerprint = self._auth_scopes(op, params)
        if scopes and self.auth_guard.is_blocked(self._guard_key, fingerprint, scopes):
            code = 600 if op in ADMIN_OPS else 100
            raise e.AuthBlocked(
                code,
                op,
                "not sent: these credentials already failed authentication; "
                "update the token (the server blacklists an IP after ~10 failures)",
            )
        response = self._exchange(op, params, write=write)
        secrets = self._secrets(params)
        status = response.status_code
        body = response.content
        if 300 <= status < 400:
            location = wire.redact(response.headers.get("Location", ""), secrets)[:120]
            raise e.UnexpectedRedirect(
                None,
                op,
                f"HTTP {status} to {location!r} (is app=ws in the URL?)",
                location=location,
            )
        if status >= 500:
            self._raise_server_error(op, status, body, secrets, write=write)
        if status != 200:
            raise e.ProtocolError(
                None,
                op,
                f"HTTP {status}",
                http_status=status,
                excerpt=wire.excerpt(body, secrets),
            )
        try:
            envelope = wire.parse_body(body, response.headers.get("Content-Type", ""))
        except wire.BodyError as exc:
            self._raise_body_error(op, exc, response, secrets)
        timestamp = envelope.get("timestamp")
        if isinstance(timestamp, int | str) and str(timestamp).isdigit():
            self.last_server_time = datetime.fromtimestamp(int(timestamp), UTC)
        if envelope.get("status") == "ERR":
            self._raise_err(op, envelope, scopes, fingerprint)
        if scopes:
            for scope in scopes:
                self.auth_guard.record_success(self._guard_key, fingerprint, scope)
        return envelope

    def _auth_scopes(self, op: str, params: dict[str, Any]) -> tuple[tuple[str, ...], str]:
        if op == "get_token":
            return ("password",), Secret(str(params.get("p") or "")).fingerprint()
        if op in ("ws_login", ""):
            return (), ""
        scopes = ("token", "admin") if op in ADMIN_OPS else ("token",)
        return scopes, self._token.fingerprint()

    def _raise_err(self, op, envelope, scopes, fingerprint) -> None:
        try:
            code = wire.as_int(envelope.get("error"), field="error")
        except ValueError:
            raise e.MalformedResponse(
                None, op, "ERR without a numeric code", excerpt=str(envelope.get("error"))[:40]
            ) from None
        if code == 100 and scopes:
            scope = "password" if op == "get_token" else "token"
            self.auth_guard.record_failure(self._guard_key, fingerprint, scope)
        elif code == 600 and scopes:
            self.auth_guard.record_failure(self._guard_key, fingerprint, "admin")
        cls = e.error_for_code(code)
        message = wire.as_str(envelope.get("error_string"))
        info = envelope.get("info")
        raise cls(code, op, message, info=wire.as_str(info) if info is not None else None)

    def _raise_server_error(self, op, status, body, secrets, *, write) -> None:
        text = wire.excerpt(body, secrets)
        if op == "pv":
            raise e.SendRejected(
                None,
                op,
                f"HTTP {status}: nothing was queued (invalid or stoplisted number, "
                "not enough credit, or a bad @user/#group)",
                http_status=status,
                excerpt=text,
            )
        if write:
            raise e.OutcomeUnknown(
                None,
                op,
                f"HTTP {status}: the server failed mid-request; the change may have been applied",
                http_status=status,
                excerpt=text,
            )
        raise e.ServerError(None, op, f"HTTP {status}", http_status=status, excerpt=text)

    def _raise_body_error(self, op, exc: wire.BodyError, response, secrets) -> None:
        text = wire.excerpt(response.content, secrets)
        ctype = response.headers.get("Content-Type", "")
        if exc.kind == "empty":
            if "html" in ctype.lower() or not ctype:
                raise e.UnknownOp(
                    None,
                    op,
                    "empty answer: the server does not know this op",
                    http_status=200,
                    excerpt="",
                ) from None
            raise e.MalformedResponse(
                None,
                op,
                f"empty {ctype} body (invalid UTF-8 in server data?)",
                http_status=200,
                excerpt="",
            ) from None
        if exc.kind == "fatal":
            cls = e.UnknownUserFatal if op in _FATAL_MEANS_UNKNOWN_USER else e.DatabaseFatal
            hint = " (unknown data_username?)" if cls is e.UnknownUserFatal else ""
            raise cls(
                None, op, f"server database error{hint}", http_status=200, excerpt=text
            ) from None
        raise e.MalformedResponse(
            None, op, f"unparsable answer ({exc})", http_status=200, excerpt=text
        ) from None

    # --- generic ------------------------------------------------------------------------------

    def call(self, op: str, **params: Any) -> dict[str, Any]:
        """Run any op; return the parsed envelope, or raise the typed error (ERR, fault).

        Reads (see :data:`READ_OPS`) are retried, everything else is treated as a write.
        ``None`` values are left out; booleans become ``1``/``0``.
        """
        op = op.strip().lower()
        return self._envelope(op, params, write=op not in READ_OPS)

    # --- helpers for the typed methods --------------------------------------------------------

    def _rows(self, op: str, params: dict[str, Any], *, strict: bool) -> list[dict[str, Any]]:
        """A listing's rows; "no data" answers (400/401/402/501, ``data: null``) → []."""
        for name in ("c", "last"):
            value = params.get(name)
            if value is not None and (not isinstance(value, int) or value < 0):
                raise ValueError(f"{name} must be a non-negative int")
        try:
            envelope = self._envelope(op, params, write=False)
        except e.ApiError as exc:
            if exc.code in e.NO_DATA_CODES and not strict:
                return []
            raise
        data = envelope.get("data")
        if data is None or data == "":
            return []
        if isinstance(data, dict):  # XML with one row, or a PHP array with string keys
            data = (
                list(data.values()) if all(isinstance(v, dict) for v in data.values()) else [data]
            )
        if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
            raise e.MalformedResponse(None, op, "data is not a list of rows")
        return data

    def _listing(self, op: str, build, strict: bool, **params: Any) -> list:
        return [self._record(op, build, row) for row in self._rows(op, params, strict=strict)]

    def _record(self, op: str, build, row: dict[str, Any]):
        try:
            return build(row)
        except (ValueError, KeyError, TypeError) as exc:
            raise e.MalformedResponse(None, op, f"unexpected row: {exc}") from None

    def _ok(self, op: str, params: dict[str, Any]) -> dict[str, Any]:
        """An admin/user write that must answer ``status: OK``."""
        envelope = self._envelope(op, params, write=op not in READ_OPS)
        if envelope.get("status") != "OK":
            raise e.MalformedResponse(
                None,
                op,
                "answer without status (a required parameter missing?)",
                excerpt=wire.excerpt(str(sorted(envelope)), self._secrets(params)),
            )
        return envelope

    def _dt(self, value: Any, offset: timedelta) -> datetime | None:
        return wire.as_datetime(value, offset)

    # --- pv -----------------------------------------------------------------------------------

    def send_message(
        self,
        to: str | Sequence[str],
        message: str,
        *,
        sender: str | None = None,
        footer: str | None = None,
        nofooter: bool | None = None,
        unicode: bool | None = None,
        msg_type: str | None = None,
        schedule: datetime | str | None = None,
    ) -> list[SentMessage]:
        """``pv``: send ``message`` to each destination; one :class:`SentMessage` per row.

        ``to`` is a number, ``@username``, ``#groupcode``, a list of them, or a
        comma-separated string (split here: the real server cannot take lists, §4.1.3).
        Numbers go ``destinations_per_request`` at a time (1 by default; ``@user`` and
        ``#group`` always alone), in the order given. Numbers are
        validated first (:class:`InvalidDestination`, nothing sent). Each echoed ``to`` is
        checked against what was asked after the server's normalisation; a mangled answer
        raises :class:`InvalidDestination` with ``results`` holding what the server did.

        ``sender`` is used only if it is an approved sender ID (else silently replaced by
        the server); ``nofooter``/``unicode`` are sent as ``1``/``0`` (the server's ``true``
        parsing is broken, §4.1.1); ``msg_type="flash"`` for flash SMS. ``schedule`` is an
        aware datetime (converted to the account's zone, see ``account_tz_offset``) and must
        not be in the past (the server would send at once, silently).

        Errors: :class:`SendRejected` (HTTP 500, nothing queued),
        :class:`EmptyDestinationOrMessage` (201), :class:`AuthenticationFailed`,
        :class:`OutcomeUnknown`. When several requests are made, the exception raised by a
        later one carries ``results``: the rows already sent.
        """
        if isinstance(to, str):
            asked = [part for part in to.split(",") if part.strip()]
        else:
            asked = [str(part) for part in to]
        if not asked:
            raise e.InvalidDestination(None, "pv", "no destination")
        destinations = [_clean_destination(d) for d in asked]
        base: dict[str, Any] = {
            "msg": message,
            "from": sender,
            "footer": footer,
            "nofooter": None if nofooter is None else bool(nofooter),
            "unicode": None if unicode is None else bool(unicode),
            "type": msg_type,
            "schedule": self._schedule_text(schedule),
        }
        results: list[SentMessage] = []
        for chunk in self._chunks(destinations):
            try:
                results.extend(self._send_chunk(chunk, base))
            except e.BearSMSError as exc:
                exc.results = results + list(getattr(exc, "results", []))
                raise
        return results

    def _chunks(self, destinations: list[str]) -> Iterator[list[str]]:
        """Numbers ``destinations_per_request`` at a time; ``@user``/``#group`` always alone."""
        numbers: list[str] = []
        for destination in destinations:
            if destination.startswith(("@", "#")):
                if numbers:
                    yield numbers
                    numbers = []
                yield [destination]
                continue
            numbers.append(destination)
            if len(numbers) == self.destinations_per_request:
                yield numbers
                numbers = []
        if numbers:
            yield numbers

    def _schedule_text(self, schedule: datetime | str | None) -> str | None:
        if schedule is None:
            return None
        if isinstance(schedule, str):
            try:
                datetime.strptime(schedule, "%Y-%m-%d %H:%M:%S")
            except ValueError:
                raise ValueError("schedule must be 'YYYY-MM-DD hh:mm:ss' or a datetime") from None
            return schedule
        if schedule.tzinfo is None:
            raise ValueError("schedule must be timezone-aware")
        if schedule < datetime.now(UTC) - timedelta(seconds=60):
            raise ValueError("schedule is in the past (the server would send immediately)")
        local = schedule.astimezone(UTC) + self.schedule_offset
        return local.strftime("%Y-%m-%d %H:%M:%S")

    def _send_chunk(self, chunk: list[str], base: dict[str, Any]) -> list[SentMessage]:
        envelope = self._envelope("pv", {"to": ",".join(chunk), **base}, write=True)
        data = envelope.get("data")
        if data is None:  # PHP 7: @user-only failure gives a bare envelope
            raise e.SendRejected(None, "pv", "nothing was queued (no data in the answer)")
        if isinstance(data, dict):
            data = [data]
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise e.MalformedResponse(None, "pv", "data is not a list of rows")
        rows = [self._record("pv", self._sent_row, row) for row in data]
        is_group = len(chunk) == 1 and chunk[0].startswith("#")
        if is_group:
            return [
                SentMessage(chunk[0], r.to, r.ok, r.error, r.smslog_id, r.queue, r.raw)
                for r in rows
            ]
        matched = len(rows) == len(chunk) and all(
            _echo_matches(asked, row.to) or not row.ok
            for asked, row in zip(chunk, rows, strict=False)
        )
        results = (
            [
                SentMessage(asked, r.to, r.ok, r.error, r.smslog_id, r.queue, r.raw)
                for asked, r in zip(chunk, rows, strict=False)
            ]
            if len(rows) == len(chunk)
            else [
                SentMessage(",".join(chunk), r.to, r.ok, r.error, r.smslog_id, r.queue, r.raw)
                for r in rows
            ]
        )
        if not matched:
            echoed = ", ".join(r.to for r in rows)
            raise e.InvalidDestination(
                None,
                "pv",
                f"the server answered for {echoed!r} when asked for "
                f"{', '.join(chunk)!r}: the destination list was mangled",
                results=results,
            )
        failed = [r for r in results if not r.ok]
        if failed and len(chunk) == 1:
            raise e.SendFailed(failed[0].error or 200, "pv", "send message failed", results=results)
        return results

    @staticmethod
    def _sent_row(row: dict[str, Any]) -> SentMessage:
        ok = wire.as_str(row.get("status")) == "OK"
        return SentMessage(
            requested="",
            to=wire.as_str(row.get("to")),
            ok=ok,
            error=wire.as_int(row.get("error") or 0, field="error"),
            smslog_id=wire.as_optional_int(row.get("smslog_id"), field="smslog_id"),
            queue=wire.as_str(row.get("queue")),
            raw=row,
        )

    # --- listings -----------------------------------------------------------------------------

    def delivery_status(
        self,
        *,
        queue: str | None = None,
        smslog_id: int | None = None,
        src: str | None = None,
        dst: str | None = None,
        dt: str | None = None,
        c: int | None = None,
        last: int | None = None,
        strict: bool = False,
    ) -> list[OutgoingMessage]:
        """``ds``: outgoing messages, newest dispatch first (the server's order).

        Filters as the server applies them: ``queue``/``smslog_id``/``src`` exact; ``dst``
        a loose suffix match **OR-ed** with ``dt`` (a substring of the dispatch time). ``c``
        defaults to 100 on the server; ``last`` is a strict lower bound on ``smslog_id``, not
        a cursor — use :meth:`iter_delivery_status` to read a feed. "No data" (400/401/402)
        gives ``[]``; with ``strict=True`` it raises :class:`NoDeliveryStatus`,
        :class:`StillQueued` (queue waiting/scheduled) or :class:`ProcessedNoRows`.
        """
        return self._listing(
            "ds",
            self._outgoing_row,
            strict,
            queue=queue,
            smslog_id=smslog_id,
            src=src,
            dst=dst,
            dt=dt,
            c=c,
            last=last,
        )

    def _outgoing_row(self, row: dict[str, Any]) -> OutgoingMessage:
        return OutgoingMessage(
            smslog_id=wire.as_int(row["smslog_id"], field="smslog_id"),
            src=wire.as_str(row.get("src")),
            dst=wire.as_str(row.get("dst")),
            msg=wire.as_str(row.get("msg")),
            dt=self._dt(row.get("dt"), self.outgoing_offset),
            update=self._dt(row.get("update"), self.outgoing_offset),
            status=DeliveryStatus(wire.as_int(row["status"], field="status")),
            raw=row,
        )

    def incoming(
        self,
        *,
        src: str | None = None,
        dst: str | None = None,
        kwd: str | None = None,
        dt: str | None = None,
        c: int | None = None,
        last: int | None = None,
        strict: bool = False,
    ) -> list[IncomingMessage]:
        """``in``: incoming SMS handled by the caller's keywords, newest first.

        ``kwd`` exact (case-insensitive), ``dst`` exact, ``src`` suffix match OR-ed with
        ``dt``. No rows (501) → ``[]`` (or :class:`NoDataError` with ``strict=True``).
        """
        return self._listing(
            "in", self._incoming_row, strict, src=src, dst=dst, kwd=kwd, dt=dt, c=c, last=last
        )

    def _incoming_row(self, row: dict[str, Any]) -> IncomingMessage:
        return IncomingMessage(
            id=wire.as_int(row["id"], field="id"),
            src=wire.as_str(row.get("src")),
            dst=wire.as_str(row.get("dst")),
            kwd=wire.as_str(row.get("kwd")),
            msg=wire.as_str(row.get("msg")),
            dt=self._dt(row.get("dt"), self.incoming_offset),
            status=wire.as_int(row.get("status", 1), field="status"),
            raw=row,
        )

    def inbox(
        self,
        *,
        src: str | None = None,
        dst: str | None = None,
        dt: str | None = None,
        c: int | None = None,
        last: int | None = None,
        strict: bool = False,
    ) -> list[InboxMessage]:
        """``ix``: the caller's web inbox, newest first. No rows (501) → ``[]``."""
        return self._listing("ix", self._inbox_row, strict, src=src, dst=dst, dt=dt, c=c, last=last)

    def _inbox_row(self, row: dict[str, Any]) -> InboxMessage:
        src = wire.as_str(row.get("src"))
        offset = self.internal_offset if src.startswith("@") else self.incoming_offset
        return InboxMessage(
            id=wire.as_int(row["id"], field="id"),
            src=src,
            dst=wire.as_str(row.get("dst")),
            msg=wire.as_str(row.get("msg")),
            dt=self._dt(row.get("dt"), offset),
            raw=row,
        )

    def sandbox(
        self,
        *,
        src: str | None = None,
        dst: str | None = None,
        dt: str | None = None,
        c: int | None = None,
        last: int | None = None,
        strict: bool = False,
    ) -> list[SandboxMessage]:
        """``sx``: unhandled incoming SMS of all accounts (admins only; a non-admin always
        gets "no data"), newest first. No rows (501) → ``[]``."""
        return self._listing(
            "sx", self._sandbox_row, strict, src=src, dst=dst, dt=dt, c=c, last=last
        )

    def _sandbox_row(self, row: dict[str, Any]) -> SandboxMessage:
        return SandboxMessage(
            id=wire.as_int(row["id"], field="id"),
            src=wire.as_str(row.get("src")),
            dst=wire.as_str(row.get("dst")),
            msg=wire.as_str(row.get("msg")),
            dt=self._dt(row.get("dt"), self.incoming_offset),
            raw=row,
        )

    # --- trap-safe feed iterators -------------------------------------------------------------

    def _iterate(self, method, id_of, after: int, page_size: int | None, filters) -> Iterator:
        if not isinstance(after, int) or after < 0:
            raise ValueError("after must be a non-negative int")
        size = page_size or self.page_size

        def fetch(lower: int, prefix: str | None, c: int):
            return method(last=lower or None, c=c, dt=prefix, **filters)

        stats: dict[str, int] = {}
        count = 0
        for row in scan_after(fetch, after=after, id_of=id_of, page_size=size, stats=stats):
            count += 1
            yield row
        logger.info(
            "bearsms %s user=%s after=%d: %d rows, %d requests, %d passes",
            method.__name__,
            self.username,
            after,
            count,
            stats["requests"],
            stats["passes"],
        )

    def iter_delivery_status(
        self,
        after: int = 0,
        *,
        page_size: int | None = None,
        src: str | None = None,
        queue: str | None = None,
    ) -> Iterator[OutgoingMessage]:
        """Every ``ds`` row with ``smslog_id > after``, once each, ascending by id.

        Uses only ``last``, ``c`` and ``dt`` (plus the AND-ed ``src``/``queue``); each answer
        holds at most ``page_size`` rows unless more rows share one second. The algorithm is
        in :mod:`bearsms_portal.bearsms.paging`. Rows that arrive during the pass are left
        for the next call. A scheduled message dispatched later keeps its early id and is not
        seen by any ``last`` cursor: track such ids yourself.
        """
        return self._iterate(
            self.delivery_status,
            lambda r: r.smslog_id,
            after,
            page_size,
            {"src": src, "queue": queue},
        )

    def iter_incoming(
        self,
        after: int = 0,
        *,
        page_size: int | None = None,
        dst: str | None = None,
        kwd: str | None = None,
    ) -> Iterator[IncomingMessage]:
        """Every ``in`` row with ``id > after``, once each, ascending (see
        :meth:`iter_delivery_status`)."""
        return self._iterate(
            self.incoming, lambda r: r.id, after, page_size, {"dst": dst, "kwd": kwd}
        )

    def iter_inbox(
        self, after: int = 0, *, page_size: int | None = None, dst: str | None = None
    ) -> Iterator[InboxMessage]:
        """Every ``ix`` row with ``id > after``, once each, ascending."""
        return self._iterate(self.inbox, lambda r: r.id, after, page_size, {"dst": dst})

    def iter_sandbox(
        self, after: int = 0, *, page_size: int | None = None, dst: str | None = None
    ) -> Iterator[SandboxMessage]:
        """Every ``sx`` row with ``id > after``, once each, ascending."""
        return self._iterate(self.sandbox, lambda r: r.id, after, page_size, {"dst": dst})

    # --- account and token --------------------------------------------------------------------

    def credit(self) -> Decimal:
        """``cr``: the caller's cached credit (``"0"`` at zero; stale until the server's
        recalculation, and never refreshed for non-admins on an unpatched 1.4.8)."""
        envelope = self._ok("cr", {})
        return self._record(
            "cr", lambda env: wire.as_decimal(env.get("credit"), field="credit"), envelope
        )

    def query(self) -> AccountSummary:
        """``query``: the caller's account and the highest id of each of its feeds."""
        envelope = self._ok("query", {})
        return self._record("query", self._summary, envelope)

    @staticmethod
    def _summary(envelope: dict[str, Any]) -> AccountSummary:
        data = envelope["data"]
        user, last_id = data["user"], data.get("last_id") or {}
        status = wire.as_int(user["status"], field="status")
        with contextlib.suppress(ValueError):
            status = AccountStatus(status)
        return AccountSummary(
            username=wire.as_str(user.get("username")),
            uid=wire.as_int(user["uid"], field="uid"),
            status=status,
            name=wire.as_str(user.get("name")),
            email=wire.as_str(user.get("email")),
            mobile=wire.as_str(user.get("mobile")),
            credit=wire.as_decimal(user.get("credit"), field="credit"),
            last_inbox_id=wire.as_int(last_id.get("user_inbox") or 0, field="user_inbox"),
            last_incoming_id=wire.as_int(last_id.get("user_incoming") or 0, field="user_incoming"),
            last_outgoing_id=wire.as_int(last_id.get("user_outgoing") or 0, field="user_outgoing"),
            raw=data,
        )

    def get_token(self, password: str) -> str:
        """``get_token``: log in with the account password; returns the **existing** token
        and makes this client use it. 104/105/106 mean an admin must create a token, enable
        webservices or allow the IP in the web UI. A wrong password counts toward the IP
        lockout, so the same password is not tried twice (:class:`AuthBlocked`)."""
        envelope = self._ok("get_token", {"p": password})
        token = wire.as_str(envelope.get("token"))
        if not token:
            raise e.MalformedResponse(None, "get_token", "no token in the answer")
        self.token = token
        return token

    def set_token(self) -> str:
        """``set_token``: mint a new token (the old one dies at once); this client switches
        to it and it is returned — store it before doing anything else."""
        envelope = self._ok("set_token", {})
        token = wire.as_str(envelope.get("token"))
        if not token:
            raise e.MalformedResponse(None, "set_token", "no token in the answer")
        self.token = token
        return token

    def ws_login_url(self, username: str, login_key: str) -> str:
        """The single sign-on URL for ``ws_login`` (no request is made).

        Open it in the end user's browser (the session cookie belongs to the BearSMS
        domain). The key is single-use and burnt by any attempt; mint one per login with
        :meth:`login_key_set`. The URL contains the key: do not log it.
        """
        query = urlencode({"app": "ws", "op": "ws_login", "u": username, "login_key": login_key})
        return f"{self.endpoint}?{query}"

    # --- contacts -----------------------------------------------------------------------------

    def get_contact(self, kwd: str, *, c: int | None = None) -> list[Contact]:
        """``get_contact``: phonebook search (substring of name, number, email, tags; at
        least 2 characters). ``c`` ≤ 0 or ``None`` = no limit. No match → ``[]``."""
        rows = self._rows("get_contact", {"kwd": kwd, "c": c}, strict=False)
        return [self._record("get_contact", self._contact, row) for row in rows]

    @staticmethod
    def _contact(row: dict[str, Any]) -> Contact:
        return Contact(
            pid=wire.as_int(row["pid"], field="pid"),
            name=wire.as_str(row.get("p_desc")),
            mobile=wire.as_str(row.get("p_num")),
            email=wire.as_str(row.get("email")),
            tags=wire.as_str(row.get("tags")),
            raw=row,
        )

    def get_contact_group(self, kwd: str, *, c: int | None = None) -> list[ContactGroup]:
        """``get_contact_group``: groups whose name or code contains ``kwd`` (≥ 2 chars)."""
        rows = self._rows("get_contact_group", {"kwd": kwd, "c": c}, strict=False)
        return [self._record("get_contact_group", self._group, row) for row in rows]

    @staticmethod
    def _group(row: dict[str, Any]) -> ContactGroup:
        return ContactGroup(
            gpid=wire.as_int(row["gpid"], field="gpid"),
            name=wire.as_str(row.get("group_name")),
            code=wire.as_str(row.get("code")),
            flag_sender=wire.as_int(row.get("flag_sender") or 0, field="flag_sender"),
            raw=row,
        )

    # --- user-level writes --------------------------------------------------------------------

    def stoplist_add(self, number: str) -> None:
        """``stoplist``: add ``number`` to the server's global stoplist (any valid user token
        may). :class:`DuplicateStoplist` (627) if the exact string is already there. The
        server strips a leading ``+`` before storing, but checks duplicates before that."""
        if not str(number).strip():
            raise ValueError("number is required")
        self._ok("stoplist", {"from": number})

    # --- admin ops ----------------------------------------------------------------------------

    def inject(
        self, sender: str, message: str, *, recvnum: str | None = None, smsc: str | None = None
    ) -> None:
        """``inject`` (admin): simulate an incoming SMS from ``sender``. Processed
        asynchronously (1–5 s); it lands in the keyword owner's ``in`` or in ``sx``. No id."""
        self._ok("inject", {"from": sender, "msg": message, "recvnum": recvnum, "smsc": smsc})

    def account_add(
        self,
        *,
        username: str,
        password: str,
        name: str,
        email: str,
        status: AccountStatus | int,
        parent: str | None = None,
        mobile: str | None = None,
        timezone: str | None = None,
        language: str | None = None,
        verify: bool = True,
    ) -> AccountAdded:
        """``accountadd`` (admin). Returns the username the server stored (it lowercases and
        filters it: ``Bob Smith`` → ``bobsmith``).

        ``status`` 2 admin, 3 user, anything else a subaccount; ``parent`` is honoured only
        for subaccounts. On PHP 8 a successful add answers HTTP 500 (the account exists):
        with ``verify`` the client then checks with ``parentget`` (a read) and returns
        ``verified=True``, or raises :class:`OutcomeUnknown` if it cannot tell. The new
        account cannot use the API until webservices are enabled in the web UI.
        Errors: :class:`AccountAddFailed` (604, reason in ``info``), :class:`MissingData`.
        """
        params = {
            "data_status": int(status),
            "data_username": username,
            "data_password": password,
            "data_name": name,
            "data_email": email,
            "data_parent": parent,
            "data_mobile": mobile,
            "data_datetime_timezone": timezone,
            "data_language_module": language,
        }
        stored = re.sub(r"[^a-z0-9._-]", "", username.lower())
        try:
            envelope = self._ok("accountadd", params)
        except e.OutcomeUnknown as exc:
            if not verify or getattr(exc, "http_status", None) is None:
                raise
            if self._account_exists(stored):
                return AccountAdded(
                    info="Account has been added (confirmed after HTTP 500)",
                    username=stored,
                    verified=True,
                )
            raise
        info = wire.as_str(envelope.get("info"))
        match = _USERNAME_IN_INFO.search(info)
        return AccountAdded(info=info, username=match.group(1) if match else stored)

    def _account_exists(self, username: str) -> bool:
        try:
            self.parent_get(username)
        except e.NoParent:
            return True
        except e.UnknownUser:
            return False
        except e.BearSMSError:
            return False
        return True

    def account_remove(self, username: str) -> AdminResult:
        """``accountremove`` (admin): soft-delete; its token stops working at once.
        :class:`UnknownUser` (605), :class:`AccountRemoveRefused` (606: uid 1, or it still
        has subaccounts)."""
        envelope = self._ok("accountremove", {"data_username": username})
        return AdminResult(info=wire.as_str(envelope.get("info")))

    def parent_set(self, username: str, parent: str) -> AdminResult:
        """``parentset`` (admin): make ``username`` a subaccount of ``parent`` (a status-3
        user). The child becomes status 4 whatever it was. :class:`ParentUnchanged` (608)
        when the parent is not a user or nothing changed; :class:`UnknownUser` (607)."""
        envelope = self._ok("parentset", {"data_username": username, "data_parent": parent})
        return AdminResult(info=wire.as_str(envelope.get("info")))

    def parent_get(self, username: str) -> ParentInfo:
        """``parentget`` (admin): :class:`NoParent` (610) for accounts that are not
        subaccounts, :class:`UnknownUser` (609)."""
        envelope = self._ok("parentget", {"data_username": username})
        return self._record(
            "parentget",
            lambda env: ParentInfo(
                parent_uid=wire.as_int(env["parent_uid"], field="parent_uid"),
                parent=wire.as_str(env.get("parent")),
            ),
            envelope,
        )

    def account_ban(self, username: str) -> AdminResult:
        """``accountban`` (admin); banning again is OK. Subaccounts of a banned account are
        blocked too. :class:`BanRefused` (612, uid 1), :class:`UnknownUser` (611)."""
        envelope = self._ok("accountban", {"data_username": username})
        return AdminResult(info=wire.as_str(envelope.get("info")))

    def account_unban(self, username: str) -> AdminResult:
        """``accountunban`` (admin). :class:`NotBanned` (614) if it was not banned,
        :class:`UnknownUser` (613)."""
        envelope = self._ok("accountunban", {"data_username": username})
        return AdminResult(info=wire.as_str(envelope.get("info")))

    def account_pref(
        self,
        username: str,
        *,
        name: str | None = None,
        email: str | None = None,
        mobile: str | None = None,
        address: str | None = None,
        city: str | None = None,
        state: str | None = None,
        country: int | None = None,
        zipcode: str | None = None,
        password: str | None = None,
    ) -> AdminResult:
        """``accountpref`` (admin): profile fields; empty values are ignored by the server
        (a field cannot be cleared). ``country`` is a numeric id (text makes the server's
        DB fail). :class:`MissingData` (615), :class:`AccountPrefFailed` (616, ``info``)."""
        if country is not None and not isinstance(country, int):
            raise ValueError("country must be a numeric id")
        params = {
            "data_username": username,
            "data_name": name,
            "data_email": email,
            "data_mobile": mobile,
            "data_address": address,
            "data_city": city,
            "data_state": state,
            "data_country": country,
            "data_zipcode": zipcode,
            "data_password": password,
        }
        envelope = self._ok("accountpref", params)
        return AdminResult(info=wire.as_str(envelope.get("info")))

    def account_conf(
        self,
        username: str,
        *,
        footer: str,
        sender: str,
        timezone: str | None = None,
        language: str | None = None,
        fwd_to_inbox: bool | None = None,
        fwd_to_email: bool | None = None,
        fwd_to_mobile: bool | None = None,
        local_length: int | None = None,
        replace_zero: str | None = None,
    ) -> AdminResult:
        """``accountconf`` (admin): account configuration.

        ``footer`` and ``sender`` are required because the server **clears** them whenever
        they are omitted: pass the current values to keep them, ``""`` to clear. ``sender``
        must be a sender ID registered to the account (:class:`AccountConfFailed` 618
        ``Invalid sender ID``). ``timezone`` as ``+HHMM`` (negative counts as +0000).
        """
        params = {
            "data_username": username,
            "data_footer": footer,
            "data_sender": sender,
            "data_datetime_timezone": timezone,
            "data_language_module": language,
            "data_fwd_to_inbox": fwd_to_inbox,
            "data_fwd_to_email": fwd_to_email,
            "data_fwd_to_mobile": fwd_to_mobile,
            "data_local_length": local_length,
            "data_replace_zero": replace_zero,
        }
        envelope = self._ok("accountconf", params)
        return AdminResult(info=wire.as_str(envelope.get("info")))

    def credit_view(self, username: str) -> Decimal:
        """``creditview`` (admin): the account's cached balance. The server refuses a
        balance of exactly zero with :class:`ZeroCredit` (620), which it also answers for an
        unknown user."""
        envelope = self._ok("creditview", {"data_username": username})
        return self._record(
            "creditview", lambda env: wire.as_decimal(env.get("balance"), field="balance"), envelope
        )

    def _credit_change(self, op: str, username: str, amount: Decimal | int | str) -> CreditChange:
        try:
            value = Decimal(str(amount).strip())
        except ArithmeticError:
            raise ValueError("amount must be a positive number") from None
        if not value.is_finite() or value <= 0:
            raise ValueError("amount must be a positive number")
        envelope = self._ok(op, {"data_username": username, "data_amount": value})
        return self._record(
            op,
            lambda env: CreditChange(
                amount=wire.as_decimal(env.get("amount"), field="amount"),
                balance=wire.as_optional_decimal(env.get("balance"), field="balance"),
            ),
            envelope,
        )

    def credit_add(self, username: str, amount: Decimal | int | str) -> CreditChange:
        """``creditadd`` (admin): add a positive ``amount`` to the account's ledger. The
        returned ``balance`` is the stale pre-change figure. An unknown user makes the server
        fail (:class:`UnknownUserFatal`)."""
        return self._credit_change("creditadd", username, amount)

    def credit_deduct(self, username: str, amount: Decimal | int | str) -> CreditChange:
        """``creditdeduct`` (admin): deduct a positive ``amount`` (no floor at zero)."""
        return self._credit_change("creditdeduct", username, amount)

    def login_key_set(self, username: str) -> str:
        """``loginkeyset`` (admin): a fresh single-use 32-hex login key for
        :meth:`ws_login_url` (replaces any earlier key). Unknown user →
        :class:`UnknownUserFatal`."""
        envelope = self._ok("loginkeyset", {"data_username": username})
        key = wire.as_str(envelope.get("login_key"))
        if not key:
            raise e.MalformedResponse(None, "loginkeyset", "no login_key in the answer")
        return key
