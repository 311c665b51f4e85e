"""One pull per (account, feed) at a time, across every worker process and machine.

The lock lives in the shared cache (Redis in production, files under ``var/`` in the embedded
run): ``cache.add`` is atomic, the holder renews the expiry while it works, and a lock whose
holder died (SIGKILL, OOM) is taken over — at once when the holder was a process on this host
that no longer exists, otherwise when its ``SYNC_LOCK_TTL`` runs out.

A pull that finds the lock taken returns at once instead of waiting: pulls never queue up
behind a slow one.
"""

from __future__ import annotations

import os
import socket
import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection

_HOST = socket.gethostname()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class SyncLock:
    def __init__(self, name: str, ttl: int | None = None):
        self.key = f"messaging:lock:{name}"
        self.ttl = ttl or settings.SYNC_LOCK_TTL
        self.token = f"{_HOST}:{os.getpid()}:{uuid.uuid4().hex}"
        self._renewed = 0.0
        self.held = False

    def acquire(self) -> bool:
        if cache.add(self.key, self.token, self.ttl):
            return self._got()
        holder = cache.get(self.key)
        if holder and self._orphaned(holder):
            cache.delete(self.key)
            if cache.add(self.key, self.token, self.ttl):
                return self._got()
        return False

    def _got(self) -> bool:
        self.held = True
        self._renewed = time.monotonic()
        return True

    @staticmethod
    def _orphaned(holder: str) -> bool:
        host, _, rest = str(holder).partition(":")
        pid = rest.partition(":")[0]
        return host == _HOST and pid.isdigit() and not _alive(int(pid))

    def renew(self) -> None:
        """Push the expiry out again; cheap enough to call after every batch."""
        if self.held and time.monotonic() - self._renewed > self.ttl / 3:
            cache.touch(self.key, self.ttl)
            self._renewed = time.monotonic()

    def release(self) -> None:
        if self.held and cache.get(self.key) == self.token:
            cache.delete(self.key)
        self.held = False

    def is_locked(self) -> bool:
        return cache.get(self.key) is not None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


def lock_for_cursor(cursor_id: int) -> SyncLock:
    # The database name keeps portals (and test runs) that share one Redis apart.
    return SyncLock(f"{connection.settings_dict['NAME']}:cursor:{cursor_id}")
