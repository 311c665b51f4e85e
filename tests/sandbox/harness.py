"""The test harness of the built-in sandbox: the handle behind the ``sandbox`` pytest fixtures
(tests/conftest.py) and the in-process transport they use.

The handle points the portal at a sandbox (``settings.BEARSMS_URL``) and builds state through
the sandbox's own services, so a test can set up a world in a few lines and then talk to it:
in-process (``http://testserver/sandbox``: the client's requests go through Django's test
client — the whole middleware stack and view, no socket — inside the test's transaction) or
over real HTTP on the live server (``start``), for tests about the wire itself.
"""

from __future__ import annotations

import io
import time
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import requests
from django.test import Client as DjangoTestClient
from django.utils import timezone
from requests.adapters import HTTPAdapter
from urllib3 import HTTPResponse

from bearsms_portal.sandbox import faults, profiles
from bearsms_portal.sandbox.models import Level, RequestLog, SandboxUser, StoplistEntry
from bearsms_portal.sandbox.services import credit, lifecycle, phonebook, receiving, world
from bearsms_portal.sandbox.services.lifecycle import TickResult

#: The base URL of the in-process sandbox (Django's test client serves ``testserver``).
IN_PROCESS_URL = "http://testserver/sandbox"


class SandboxHandle:
    """A running sandbox.

    Attributes: ``url`` (base URL before ``/index.php``), ``endpoint`` (``url + "/index.php"``),
    ``profile``, ``admin_username``, ``admin_token``.

    Helpers (all go through the sandbox's services):

    - ``create_user(username, *, level=3, parent=None, password=None, credit=0,
      webservices=True, **extra) -> token | None`` — an account as ``accountadd`` creates it
      (level 2 admin, 3 user, 4 subaccount, which the server calls "subuser"), then enabled for
      the API (token, IP list) unless ``webservices=False``; ``credit`` is already in the cached
      figure. ``extra``: name, email, mobile, timezone_, token.
    - ``user(username) -> SandboxUser`` — the model row (fresh from the DB).
    - ``set_credit(username, amount)`` — ledger and cached credit become ``amount``.
    - ``add_outgoing(username, count, **fields) -> int`` — bulk, already-dispatched `ds` rows
      (fields: src, dst, msg with ``{i}``, status, start, step_seconds).
    - ``inject_incoming(sender, text, *, recvnum="", smsc="", route=True, now=None)`` — an
      incoming SMS received at ``now`` (default: now); routed at once to `in`/`ix`/`sx` unless
      ``route=False`` (then the next tick does it). Rows routed in the same second tie in `dt`
      (the server then orders them by id): pass one ``now`` to make such a tie on purpose.
    - ``add_keyword(owner, keyword, feature="autoreply", scenarios={"A": "reply"})``,
      ``add_group(owner, name, code, flag_sender=0)``, ``add_contact(owner, name, mobile,
      email="", tags="", groups=[codes])``, ``set_rate(prefix, rate)``, ``stoplist(number)``.
    - ``tick(now=None) -> TickResult`` — one lifecycle step at ``now``;
      ``settle(seconds=120)`` — a tick that far ahead: everything due is dispatched and reported.
    - ``requests(op=None) -> list[RequestLog]`` — the request log, oldest first.
    - ``set_fault(op, kind, rate)`` — kind in latency_ms (milliseconds), http500, garbage,
      html_error, hang, lost_reply (the op runs, its answer is lost), applied_500 (the op
      runs, then HTTP 500); ``op="*"`` for all ops.
      ``clear_faults()``.
    """

    def __init__(self, base_url: str, profile: str, admin_username: str, admin_token: str):
        self.url = base_url.rstrip("/")
        self.endpoint = f"{self.url}/index.php"
        self.profile = profile
        self.admin_username = admin_username
        self.admin_token = admin_token

    def __repr__(self) -> str:  # never the token
        return f"<SandboxHandle {self.url} profile={self.profile}>"

    # --- accounts ------------------------------------------------------------------------------
    def create_user(
        self,
        username: str,
        *,
        level: int = Level.USER,
        parent: str | None = None,
        password: str | None = None,
        credit=0,
        webservices: bool = True,
        **extra,
    ) -> str | None:
        _, token = world.create_user(
            username,
            level=level,
            parent=parent,
            password=password,
            credit=credit,
            webservices=webservices,
            **extra,
        )
        return token

    def set_credit(self, username: str, amount) -> None:
        """Make the account's credit ``amount`` (ledger + cached figure), whatever the mode."""
        credit.set_credit(self.user(username), Decimal(str(amount)))

    def user(self, username: str) -> SandboxUser:
        return SandboxUser.objects.get(username=username, deleted=False)

    # --- traffic -------------------------------------------------------------------------------
    def add_outgoing(self, username: str, count: int, **fields) -> int:
        return world.add_outgoing(self.user(username), count, **fields)

    def inject_incoming(
        self,
        sender: str,
        text: str,
        *,
        recvnum: str = "",
        smsc: str = "",
        route: bool = True,
        now: datetime | None = None,
    ):
        now = now or timezone.now()
        row = world.inject_incoming(sender=sender, text=text, recvnum=recvnum, smsc=smsc, now=now)
        if route:  # what the next tick would do, for this row only
            receiving.route(row, now=now, sw=profiles.current())
        return row

    def add_keyword(
        self,
        owner: str,
        keyword: str,
        *,
        feature: str = "autoreply",
        scenarios: dict[str, str] | None = None,
    ):
        return world.add_keyword(self.user(owner), keyword, feature=feature, scenarios=scenarios)

    def add_group(self, owner: str, name: str, code: str, *, flag_sender: int = 0):
        return phonebook.add_group(self.user(owner), name=name, code=code, flag_sender=flag_sender)

    def add_contact(
        self,
        owner: str,
        name: str,
        mobile: str,
        *,
        email: str = "",
        tags: str = "",
        groups: list[str] = (),
    ):
        account = self.user(owner)
        group_rows = [account.groups.get(code=code) for code in groups]
        return phonebook.add_contact(
            account, name=name, mobile=mobile, email=email, tags=tags, groups=group_rows
        )

    def set_rate(self, prefix: str, rate):
        return world.set_rate(prefix, rate)

    def stoplist(self, number: str):
        return StoplistEntry.objects.create(mobile=number)

    # --- time ----------------------------------------------------------------------------------
    def tick(self, now: datetime | None = None) -> TickResult:
        return lifecycle.tick(now=now)

    def settle(self, seconds: float = 120) -> TickResult:
        """Run the daemon ``seconds`` ahead (twice: dispatch, then the delivery reports)."""
        later = timezone.now() + timedelta(seconds=seconds)
        first = lifecycle.tick(now=later)
        second = lifecycle.tick(now=later + timedelta(seconds=seconds))
        first.reported += second.reported
        first.dispatched += second.dispatched
        return first

    # --- observation and faults ----------------------------------------------------------------
    def requests(self, op: str | None = None) -> list[RequestLog]:
        qs = RequestLog.objects.order_by("id")
        return list(qs.filter(op=op) if op else qs)

    def set_fault(self, op: str, kind: str, rate: float):
        return faults.set_fault(op, kind, rate)

    def clear_faults(self) -> None:
        faults.clear_faults()


class InProcessAdapter(HTTPAdapter):
    """A ``requests`` transport that answers with Django's test client in this thread: the
    request runs through the whole middleware stack and view, inside the caller's database
    transaction, with no socket (so no live server and no database flush after the test).

    The client's read timeout still holds: an answer that took longer (a ``latency_ms``,
    ``hang`` or ``lost_reply`` fault) raises ``ReadTimeout`` once the view is done, as the
    client would have given up meanwhile — and, as on the wire, the server's work stays done.
    """

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        url = urlsplit(request.url)
        path = url.path + (f"?{url.query}" if url.query else "")
        body = request.body or b""
        headers = {
            name: value
            for name, value in request.headers.items()
            if name.lower() not in ("content-type", "content-length", "host")
        }
        started = time.monotonic()
        # a fresh test client per request: no cookie survives (the real client refuses them)
        answer = DjangoTestClient(raise_request_exception=False).generic(
            request.method,
            path,
            data=body.encode() if isinstance(body, str) else body,
            content_type=request.headers.get("Content-Type", ""),
            headers=headers,
        )
        content = b"".join(answer.streaming_content) if answer.streaming else answer.content
        elapsed = time.monotonic() - started
        limit = timeout[1] if isinstance(timeout, tuple) else timeout
        if limit is not None and elapsed > limit:
            raise requests.exceptions.ReadTimeout(
                f"the in-process answer took {elapsed:.1f} s (read timeout {limit} s)",
                request=request,
            )
        raw = HTTPResponse(
            body=io.BytesIO(content),
            headers=dict(answer.items()),
            status=answer.status_code,
            reason=answer.reason_phrase,
            preload_content=False,
            decode_content=False,
        )
        return self.build_response(request, raw)


def serve_in_process(monkeypatch) -> None:
    """Route every ``requests`` call to ``http://testserver/…`` through :class:`InProcessAdapter`
    for the rest of the test (``monkeypatch`` undoes it)."""
    adapter = InProcessAdapter()
    original = requests.Session.get_adapter

    def get_adapter(session, url):
        if url.startswith("http://testserver/"):
            return adapter
        return original(session, url)

    monkeypatch.setattr(requests.Session, "get_adapter", get_adapter)


def start_in_process(monkeypatch, settings, profile: str) -> SandboxHandle:
    """The sandbox in ``profile``, served in-process at :data:`IN_PROCESS_URL`."""
    serve_in_process(monkeypatch)
    return start_at(IN_PROCESS_URL, settings, profile)


def start(live_server, settings, profile: str) -> SandboxHandle:
    """Point the portal at the live server's sandbox in ``profile`` and seed the main admin."""
    return start_at(f"{live_server.url}/sandbox", settings, profile)


def start_at(base_url: str, settings, profile: str) -> SandboxHandle:
    """As :func:`start`, for any base URL (``http://testserver/sandbox`` for Django's test
    client, where the sandbox runs in-process inside the test's transaction)."""
    settings.SANDBOX_ENABLED = True
    settings.SANDBOX_PROFILE = profile
    settings.BEARSMS_URL = base_url
    world.ensure_main_admin(settings.BEARSMS_ADMIN_USERNAME, token=settings.BEARSMS_ADMIN_TOKEN)
    return SandboxHandle(
        settings.BEARSMS_URL,
        profile,
        settings.BEARSMS_ADMIN_USERNAME,
        settings.BEARSMS_ADMIN_TOKEN,
    )
