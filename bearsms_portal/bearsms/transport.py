"""The transport under every op: one HTTP exchange, retries, the auth guard, error mapping.

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
- Every call with credentials asks the auth guard first (:mod:`.auth`): a credential that was
  refused (ERR 100, or 600 on admin ops) is not sent again until its cool-down has passed (then
  once, as a probe), and while the server-wide budget of failures is spent only proven
  credentials are sent (:class:`AuthBlocked`, :class:`AuthBudgetSpent`): the real server
  blacklists an IP for *every* account after ~10 failed attempts. The guard is process-wide by
  default; pass ``auth_guard=`` to share it.
- The token is kept in a :class:`Secret` and never appears in ``repr``, logs or exceptions.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from http.cookiejar import DefaultCookiePolicy
from typing import Any, Self

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NameResolutionError, NewConnectionError

from . import auth, wire
from . import errors as e
from .auth import Secret
from .ops import ADMIN_OPS, FATAL_MEANS_UNKNOWN_USER, READ_OPS
from .redaction import SECRET_PARAMS, RedactSecretsFilter, redact

__all__ = ["Transport"]

logger = logging.getLogger("bearsms_portal.bearsms.client")


class _RejectAllCookies(DefaultCookiePolicy):
    def set_ok(self, cookie, request):  # noqa: D102
        return False

    def return_ok(self, cookie, request):  # noqa: D102
        return False


_urllib3_log = logging.getLogger("urllib3.connectionpool")  # its request lines hold the URL
if not any(isinstance(f, RedactSecretsFilter) for f in _urllib3_log.filters):
    _urllib3_log.addFilter(RedactSecretsFilter())


def _wire_value(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


class Transport:
    """Connection, credentials and the generic request path of a :class:`Client`."""

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
        sender_tz_offsets: Mapping[str, str | None] | None = None,
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
        self.auth_guard = auth_guard if auth_guard is not None else auth.DEFAULT_AUTH_GUARD
        gateway = wire.parse_offset(tz_offset)
        server = wire.parse_offset(server_tz_offset) if server_tz_offset is not None else gateway
        account = wire.parse_offset(account_tz_offset) if account_tz_offset is not None else gateway
        gmt0 = server - wire.clamp_playsms_offset(gateway)
        #: offset of ds dt/update ("GMT+0": UTC on a consistent server)
        self.outgoing_offset = gmt0
        #: offset of in/sx dt and non-internal ix dt: the server's clock + gateway offset −
        #: this (receiving) account's offset, fixed when the row is stored (§1.7)
        self.incoming_offset = (
            server + wire.clamp_playsms_offset(gateway) - wire.clamp_playsms_offset(account)
        )
        #: offset of ix dt for @user messages: "GMT+0" shifted back by the *sender's* zone
        #: (the gateway's unless ``sender_tz_offsets`` names the sender's own zone)
        self.internal_offset = gmt0 - wire.clamp_playsms_offset(gateway)
        self.sender_tz_offsets = sender_tz_offsets if sender_tz_offsets is not None else {}
        #: offset in which ``schedule`` is written
        self.schedule_offset = gmt0 + wire.clamp_playsms_offset(account)
        #: the server's clock from the last envelope (estimate skew with it)
        self.last_server_time: datetime | None = None
        self._session = session or self._new_session()

    def internal_offset_from(self, sender: str) -> timedelta:
        """The offset of an ``@sender`` inbox row's time: by the sender's own zone if known."""
        zone = self.sender_tz_offsets.get(sender)
        if not zone:
            return self.internal_offset
        gmt0 = self.outgoing_offset
        return gmt0 - wire.clamp_playsms_offset(wire.parse_offset(zone))

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

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @staticmethod
    def guard_key_for(base_url: str, username: str) -> tuple[str, str]:
        """The auth guard's key of ``username`` on the server at ``base_url``."""
        return (base_url.rstrip("/") + "/index.php", username.lower())

    @property
    def _guard_key(self) -> tuple[str, str]:
        return self.guard_key_for(self.base_url, self.username)

    def clear_auth_failure(self) -> None:
        """Forget an authentication failure for this account (e.g. after an admin fixed its
        IP list or enabled webservices without changing the token)."""
        self.auth_guard.clear(self._guard_key)

    def _secrets(self, params: dict[str, Any]) -> list[str]:
        found = [self._token.reveal()]
        found += [str(value) for name, value in params.items() if name in SECRET_PARAMS and value]
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
                detail = redact(f"{type(exc).__name__}: {exc}", secrets)[:200]
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
            # reads that went fine are routine (the sync pulls every few seconds): DEBUG
            quiet = not write and response.status_code < 400
            logger.log(
                logging.DEBUG if quiet else logging.INFO,
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
        if not scopes:
            return self._answer(op, params, write=write)
        admission = self.auth_guard.admit(self._guard_key, fingerprint, scopes)
        if admission.refusal:
            self._raise_refusal(op, admission)
        outcome, scope = "unknown", ""
        try:
            envelope = self._answer(op, params, write=write)
            outcome = "ok"
            return envelope
        except e.ApiError as exc:
            scope = self._refused_scope(op, exc.code)
            outcome = "failed" if scope else "ok"
            raise
        finally:
            self.auth_guard.settle(admission, outcome, scope)

    @staticmethod
    def _refused_scope(op: str, code: int | None) -> str:
        """The guard scope an ``ERR`` refuses ('' when authentication passed)."""
        if code == 100:
            return "password" if op == "get_token" else "token"
        if code == 600 and op in ADMIN_OPS:
            return "admin"
        return ""

    @staticmethod
    def _raise_refusal(op: str, admission: auth.Admission) -> None:
        code = 600 if op in ADMIN_OPS else 100
        if admission.refusal == "budget":
            raise e.AuthBudgetSpent(
                code,
                op,
                f"not sent: {admission.failures} failed authentications with this server "
                "recently; password and unproven token attempts wait until the budget has room",
                retry_at=admission.retry_at,
                failures=admission.failures,
            )
        raise e.AuthBlocked(
            code,
            op,
            "not sent: these credentials already failed authentication; they are tried again "
            "once after a cool-down (the server blacklists an IP after ~10 failures)",
            retry_at=admission.retry_at,
        )

    def _answer(self, op: str, params: dict[str, Any], *, write: bool) -> dict[str, Any]:
        """One exchange and its parsed envelope, or the typed error."""
        response = self._exchange(op, params, write=write)
        secrets = self._secrets(params)
        status = response.status_code
        body = response.content
        if 300 <= status < 400:
            location = redact(response.headers.get("Location", ""), secrets)[:120]
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
            self._raise_err(op, envelope)
        return envelope

    def _auth_scopes(self, op: str, params: dict[str, Any]) -> tuple[tuple[str, ...], str]:
        if op == "get_token":
            return ("password",), Secret(str(params.get("p") or "")).fingerprint()
        if op in ("ws_login", ""):
            return (), ""
        scopes = ("token", "admin") if op in ADMIN_OPS else ("token",)
        return scopes, self._token.fingerprint()

    def _raise_err(self, op, envelope) -> None:
        try:
            code = wire.as_int(envelope.get("error"), field="error")
        except ValueError:
            raise e.MalformedResponse(
                None, op, "ERR without a numeric code", excerpt=str(envelope.get("error"))[:40]
            ) from None
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
            cls = e.UnknownUserFatal if op in FATAL_MEANS_UNKNOWN_USER else e.DatabaseFatal
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
