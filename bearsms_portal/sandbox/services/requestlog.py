"""The sandbox's request log: every call, secrets removed."""

from __future__ import annotations

from django.conf import settings

from bearsms_portal.bearsms.redaction import redact_params
from bearsms_portal.transactions import create_unflushed

from ..models import RequestLog


def record(
    *,
    op: str,
    method: str,
    params: dict[str, str],
    ip: str,
    http_status: int,
    result: str,
    fault: str = "",
    profile: str = "",
    duration_ms: float = 0.0,
) -> None:
    """Log one call. The entry does not wait for the disk (:func:`create_unflushed`, one round
    trip): it is the sandbox's diary, as a real server's access log is a buffered file, and a
    flush per request would be time the caller waits that no server spends."""
    create_unflushed(
        RequestLog,
        op=op,
        method=method,
        params=redact_params(params),
        username=params.get("u", "")[:100],
        ip=ip,
        http_status=http_status,
        result=result[:20],
        fault=fault,
        profile=profile,
        duration_ms=duration_ms,
    )


def result_code(result) -> str:
    """The code a reply carries: the top-level `error`, "0" for row replies, "" otherwise."""
    if isinstance(result, dict):
        if "error" in result:
            return str(result["error"])
        if "data" in result:
            return "0"
    return ""


def prune() -> int:
    """Keep the newest ``SANDBOX_REQUEST_LOG_KEEP`` entries (default 50,000)."""
    keep = int(settings.SANDBOX_REQUEST_LOG_KEEP)
    newest = RequestLog.objects.order_by("-id").values_list("id", flat=True).first()
    if newest is None or newest <= keep:
        return 0
    return RequestLog.objects.filter(id__lte=newest - keep).delete()[0]
