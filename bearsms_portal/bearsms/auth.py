"""Credentials and the process-wide authentication guard.

After an authentication failure (ERR 100, or 600 on admin ops) the same username + token is
refused locally (:class:`~bearsms_portal.bearsms.errors.AuthBlocked`) until the token changes:
the real server blacklists an IP for *every* account after ~10 failed attempts, so one stale
token must not lock the portal out. Only fingerprints of credentials are kept.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable

__all__ = ["Secret", "InMemoryAuthGuard", "DEFAULT_AUTH_GUARD"]


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
