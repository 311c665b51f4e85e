"""Health checks for /healthz: each check returns a dict with at least ``ok`` (bool).

Apps register extra checks (for example the sync's lag) with :func:`register`. A check must
never put a secret in its answer: it reports states, latencies and short error classes only.
"""

import time
from collections.abc import Callable

import requests
from django.conf import settings
from django.db import connection

Check = Callable[[], dict]
_CHECKS: dict[str, Check] = {}


def register(name: str, check: Check) -> None:
    _CHECKS[name] = check


def _timed(probe: Callable[[], dict | None]) -> dict:
    started = time.perf_counter()
    try:
        extra = probe() or {}
        result = {"ok": True, **extra}
    except Exception as exc:  # any failure is a "down" state, reported by class only
        result = {"ok": False, "error": type(exc).__name__}
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def check_database() -> dict:
    def probe():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"vendor": connection.vendor}

    return _timed(probe)


def check_broker() -> dict:
    from bearsms_portal.celery import app

    def probe():
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            return {"transport": conn.transport.driver_type}

    return _timed(probe)


def check_bearsms() -> dict:
    """Asks the endpoint with no op and no credentials: the server answers a bare envelope."""

    def probe():
        response = requests.get(
            f"{settings.BEARSMS_URL}/index.php", params={"app": "ws"}, timeout=5
        )
        if response.status_code >= 500:
            raise ConnectionError(f"HTTP {response.status_code}")
        return {"sandbox": settings.SANDBOX_ENABLED}

    return _timed(probe)


register("database", check_database)
register("broker", check_broker)
register("bearsms", check_bearsms)


def run_checks() -> dict[str, dict]:
    return {name: check() for name, check in _CHECKS.items()}
