"""HTTP layer of the sandbox: the webservices endpoint (a thin dispatcher), the tiny web UI that
`ws_login` lands on, and the staff page for fault switches.

Everything the real server does before an op runs happens here, in its order: the `app=ws`
access check on the raw query string, the CSRF redirect for `POST app=webservice`, parameter
merging (body over query) and sanitising, the op name, then faults, then the op.
"""

from __future__ import annotations

import re
import secrets
import string
import time
from functools import partial

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import faults, profiles
from .forms import FaultRuleForm
from .models import FaultRule, RequestLog, WebSession
from .ops import Ctx, dispatch
from .render import HTML
from .render import render as render_body
from .replies import EMPTY_500, FATAL, DatabaseFatal, PhpFatal, Raw, Redirect, with_envelope
from .sanitize import sanitize
from .services import accounts, requestlog

WS_APPS = ("ws", "webservice", "webservices")
BLOCK = "index.php?app=main&inc=core_auth&route=block&op=block"
WELCOME = "index.php?app=main&inc=core_welcome"
_SESSION_ALPHABET = string.digits + "abcdefghijklmnopqrstuv"
_ARRAY_KEY = re.compile(r"^([^\[]+)\[.*\]$")
#: The WSGI environ key of the time (``time.monotonic()``) at which a server that stamps its
#: requests read the request line (``runsandbox``).
RECEIVED = "sandbox.received"
#: The WSGI environ key of a list that a server which runs work after the reply has left
#: (``runsandbox``) calls, in order, once the reply is written: the request log's entry goes
#: there, as a web server writes its access log after the response.
AFTER_REPLY = "sandbox.after_reply"


def _new_session_id() -> str:
    return "".join(secrets.choice(_SESSION_ALPHABET) for _ in range(26))


def _php_headers(response: HttpResponse, request: HttpRequest, session_id: str | None = ""):
    """The headers playSMS sets on every reply (a fresh PHPSESSID each time)."""
    if session_id is not None:
        secure = "; secure" if request.is_secure() else ""
        session_id = session_id or _new_session_id()
        cookie = f"PHPSESSID={session_id}; path=/{secure}; HttpOnly; SameSite=Strict"
        response["Set-Cookie"] = cookie
    response["Expires"] = "Thu, 19 Nov 1981 08:52:00 GMT"
    response["Pragma"] = "no-cache"
    response["Cache-Control"] = "max-age=0, no-cache, no-store, must-revalidate"
    response["X-Frame-Options"] = "SAMEORIGIN"
    return response


def _params(request: HttpRequest) -> tuple[dict[str, str], set[str]]:
    """Query string, then the form body (which wins) for POST; sanitised; array names apart."""
    sources = [request.GET] + ([request.POST] if request.method == "POST" else [])
    params: dict[str, str] = {}
    arrays: set[str] = set()
    for source in sources:
        for key in source:
            match = _ARRAY_KEY.match(key)
            if match:
                arrays.add(match.group(1))
                params[match.group(1)] = ""
            else:
                params[key] = sanitize(source.getlist(key)[-1])
    return params, arrays


def _op_name(raw: str) -> str:
    return re.sub(r"[^A-Za-z0-9\s._-]", "", raw).strip().lower()


def _respond(request: HttpRequest, result, fmt: str) -> HttpResponse:
    session_id = ""
    if isinstance(result, Redirect):
        response = HttpResponse(status=302, content_type=HTML)
        response["Location"] = result.location
        session_id = result.session_id or ""
    elif isinstance(result, Raw):
        response = HttpResponse(result.body, status=result.status, content_type=result.content_type)
        # An emulated PHP fatal or fault, not a portal error: keep it out of django.request's
        # ERROR log (the request log records it).
        response._has_been_logged = True
    else:
        body, content_type = render_body(with_envelope(result, int(time.time())), fmt)
        response = HttpResponse(body, content_type=content_type)
    if request.method == "HEAD":
        response.content = b""
    return _php_headers(response, request, session_id)


def _fault_response(kind: str) -> Raw:
    if kind == "http500":
        return EMPTY_500
    if kind == "garbage":
        return Raw(status=200, body=faults.GARBAGE_BODY, content_type="application/json")
    if kind == "html_error":
        return Raw(status=502, body=faults.HTML_ERROR_BODY)
    time.sleep(faults.hang_seconds())
    return Raw(status=504)


def _run(ctx: Ctx, op: str):
    """The op's reply; PHP fatals and DB exceptions become what the real server sends."""
    try:
        return dispatch(ctx, op) if op else {}
    except PhpFatal:
        return EMPTY_500
    except DatabaseFatal:
        return FATAL


@csrf_exempt
def endpoint(request: HttpRequest) -> HttpResponse:
    """``index.php``: webservices when the raw query string names app=ws, else the web UI."""
    # From the moment the server read the request line when it stamped it (``runsandbox``),
    # else from here: the request log's duration is the server's own service time.
    started = request.META.get(RECEIVED) or time.monotonic()
    query = request.META.get("QUERY_STRING", "")
    if not any(f"app={app}" in query for app in WS_APPS):
        return web_ui(request)
    params, arrays = _params(request)
    app = params.get("app", "").lower()
    if request.method == "POST" and app == "webservice":
        return _respond(request, Redirect(BLOCK), "")  # the anti-CSRF check fails
    op = _op_name(params.get("op", ""))
    sw = profiles.current()
    decision = faults.decide(op) if op else faults.Decision()
    if decision.latency_ms:
        time.sleep(decision.latency_ms / 1000)
    if decision.kind and decision.kind not in faults.AFTER_APPLYING:
        result = _fault_response(decision.kind)
    else:
        ctx = Ctx(
            params=params,
            arrays=arrays,
            ip=request.META.get("REMOTE_ADDR", ""),
            now=timezone.now(),
            sw=sw,
            app=app,
        )
        result = _run(ctx, op)
        if decision.kind == "lost_reply":  # applied; the answer never reaches the caller
            result = _fault_response("hang")
        elif decision.kind == "applied_500":  # applied; then the server fails
            result = EMPTY_500
    response = _respond(request, result, params.get("format", ""))
    entry = partial(
        requestlog.record,
        op=op,
        method=request.method,
        params=params,
        ip=request.META.get("REMOTE_ADDR", ""),
        http_status=response.status_code,
        result="FATAL" if result is FATAL else requestlog.result_code(result),
        fault=decision.kind or "",
        profile=sw.name,
        duration_ms=(time.monotonic() - started) * 1000,
    )
    after_reply = request.META.get(AFTER_REPLY)
    if after_reply is not None:
        after_reply.append(entry)  # the caller has its answer before the log is written
    else:
        entry()
    return response


USER_CONFIG = "index.php?app=main&inc=core_user&route=user_config&op=user_config"


def user_config(request: HttpRequest, session: WebSession) -> HttpResponse:
    """The user configuration page of the logged-in account: enable webservices, set the IP
    list, generate a token — what no API op can do (like playSMS's "Preferences" page)."""
    account = session.user
    saved = False
    if request.method == "POST":
        accounts.save_user_config(
            account,
            enable_webservices=request.POST.get("enable_webservices") == "1",
            ip_list=request.POST.get("webservices_ip", ""),
            new_token=request.POST.get("new_token") == "1",
        )
        saved = True
    context = {"account": account, "saved": saved, "action": USER_CONFIG}
    response = render(request, "sandbox/user_config.html", context)
    return _php_headers(response, request, session_id=None)


def web_ui(request: HttpRequest) -> HttpResponse:
    """The slice of the web UI a `ws_login` user reaches: who is logged in, the user
    configuration page, or the block page."""
    cookie = request.COOKIES.get("PHPSESSID", "")
    session = (
        WebSession.objects.filter(session_id=cookie).select_related("user").first()
        if cookie
        else None
    )
    app = request.GET.get("app", "")
    if app == "main" and request.GET.get("inc") == "core_welcome" and session:
        context = {"account": session.user, "config_url": USER_CONFIG}
        response = render(request, "sandbox/welcome.html", context)
        return _php_headers(response, request, session_id=None)
    if app == "main" and request.GET.get("route") == "user_config" and session:
        return user_config(request, session)
    if app == "main" and request.GET.get("route") == "block":
        return _php_headers(render(request, "sandbox/blocked.html"), request)
    response = HttpResponse(status=302, content_type=HTML)
    response["Location"] = WELCOME if (session and not app) else BLOCK
    return _php_headers(response, request, session_id=None if session else "")


@staff_member_required
def fault_switches(request: HttpRequest) -> HttpResponse:
    """Staff page: set latency and fault rates per op; see the latest requests."""
    form = FaultRuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        rule, _ = FaultRule.objects.get_or_create(op=form.cleaned_data["op"])
        for field in faults.FIELDS:
            setattr(rule, field, form.cleaned_data[field] or 0)
        rule.save()
        messages.success(request, f"Fault switches for {rule.op} saved.")
        return redirect("sandbox:faults")
    context = {
        "form": form,
        "rules": FaultRule.objects.order_by("op"),
        "requests": RequestLog.objects.order_by("-id")[:50],
        "profile": profiles.current(),
    }
    return render(request, "sandbox/faults.html", context)


@staff_member_required
@require_POST
def fault_delete(request: HttpRequest) -> HttpResponse:
    """Staff page: delete the fault switches of one op."""
    op = request.POST.get("op", "")
    if faults.delete_rule(op):
        messages.success(request, f"Fault switches for {op} deleted.")
    else:
        messages.warning(request, f"There were no fault switches for {op}.")
    return redirect("sandbox:faults")
