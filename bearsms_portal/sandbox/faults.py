"""Fault switches, per op (or ``*`` for all), deterministic under ``settings.SANDBOX_SEED``.

Sources, merged (the database wins per field when non-zero):
- ``settings.SANDBOX_FAULTS = {"pv": {"latency_ms": 200, "http500": 0.5}, "*": {...}}``
- :class:`~.models.FaultRule` rows, edited on the staff page ``/sandbox/faults/`` or by tests.

Kinds: ``latency_ms`` (added before answering), and the rates ``http500`` (HTTP 500, empty body),
``garbage`` (HTTP 200 with a body that is not JSON/XML), ``html_error`` (HTTP 502 with an HTML
error page, as a proxy would send), ``hang`` (no answer until ``SANDBOX_HANG_SECONDS``, then
the connection is closed with an empty 504 — the client's timeout fires first) and ``lost_reply``
(like ``hang``, but the op **runs** first: the request was applied and its answer is lost, as when
a connection drops after the request left), and ``applied_500`` (the op **runs**, then the reply
is an empty HTTP 500: the server applied the change and failed afterwards). A fault decision
is a pure function of (seed, op, kind, n) where n counts that op's calls, so a run replays the
same faults. Every other fault short-circuits the op: it does not run.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.db.models import F

from . import profiles
from .models import FaultCounter, FaultRule

KINDS = ("http500", "garbage", "html_error", "hang", "lost_reply", "applied_500")
#: Faults that let the op run before they spoil the answer.
AFTER_APPLYING = ("lost_reply", "applied_500")
FIELDS = ("latency_ms", *KINDS)


@dataclass
class Decision:
    latency_ms: int = 0
    kind: str | None = None


def rules_for(op: str) -> dict[str, float]:
    merged: dict[str, float] = dict.fromkeys(FIELDS, 0)
    configured = settings.SANDBOX_FAULTS or {}
    db_rules = {r.op: r for r in FaultRule.objects.filter(op__in=["*", op])}
    for key in ("*", op):
        for field, value in (configured.get(key) or {}).items():
            if field not in merged:
                raise ValueError(f"unknown fault {field!r}; use one of {FIELDS}")
            merged[field] = value or merged[field]
        rule = db_rules.get(key)
        if rule is not None:
            for field in FIELDS:
                merged[field] = getattr(rule, field) or merged[field]
    return merged


def _draw(op: str, kind: str, n: int) -> float:
    digest = hashlib.sha256(f"{profiles.seed()}:{op}:{kind}:{n}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def decide(op: str) -> Decision:
    rules = rules_for(op)
    decision = Decision(latency_ms=int(rules["latency_ms"]))
    if not any(rules[k] for k in KINDS):
        return decision
    counter, _ = FaultCounter.objects.get_or_create(op=op)
    FaultCounter.objects.filter(pk=counter.pk).update(calls=F("calls") + 1)
    n = counter.calls + 1
    for kind in KINDS:
        if rules[kind] and _draw(op, kind, n) < rules[kind]:
            decision.kind = kind
            break
    return decision


def set_fault(op: str, kind: str, value: float) -> FaultRule:
    """Set one switch for one op (``kind`` in FIELDS; ``latency_ms`` takes milliseconds)."""
    if kind not in FIELDS:
        raise ValueError(f"unknown fault {kind!r}; use one of {FIELDS}")
    rule, _ = FaultRule.objects.get_or_create(op=op)
    setattr(rule, kind, int(value) if kind == "latency_ms" else float(value))
    rule.save()
    return rule


def delete_rule(op: str) -> bool:
    """Remove the switches of one op (the staff page's Delete); False when there were none."""
    deleted, _ = FaultRule.objects.filter(op=op).delete()
    return bool(deleted)


def clear_faults() -> None:
    FaultRule.objects.all().delete()
    FaultCounter.objects.all().delete()


def hang_seconds() -> float:
    if settings.SANDBOX_HANG_SECONDS is None:
        return settings.BEARSMS_TIMEOUT + 5
    return float(settings.SANDBOX_HANG_SECONDS)


GARBAGE_BODY = '{"status":"OK","error":"0","data":[{"smslog_id":\x00\x17\ufffd<<garbage>>'
HTML_ERROR_BODY = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
