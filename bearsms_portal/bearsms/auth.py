"""Credentials and the authentication guard that keeps the server from blacklisting the caller.

The real server counts failed authentications per caller IP and blacklists the IP on about the
eleventh (§2.6): from then on it refuses *every* account from that address, valid tokens too,
until an administrator lifts the block by hand. A portal is one IP for all its accounts, so the
guard spends failures sparingly, for every account of one server together:

- **Fail fast.** A credential (the fingerprint of a token or a password, per server and
  username) that was refused is not sent again: later calls raise
  :class:`~bearsms_portal.bearsms.errors.AuthBlocked` without a request. Scopes keep apart what
  was refused: ``token`` (ERR 100 on a token op), ``admin`` (ERR 600: refused for admin ops,
  perhaps only because the account is no admin) and ``password`` (``get_token``).
- **One probe after a cool-down.** A refused credential is tried again — once, whichever
  process asks first — after ``cooldown`` seconds (15 minutes), then after twice that at each
  new refusal, up to ``cooldown_max`` (4 hours): a block lifted on the server, or webservices
  enabled again, is noticed without anyone changing the token. :meth:`AuthGuard.make_due`
  makes the probe due at once (the portal's "try again now").
- **A budget per server.** Every refusal is counted in a sliding window (``budget`` per
  ``window``: 5 per 10 minutes, half the server's limit). While it is spent, only credentials
  that have worked before are used (the server resets its counter on each success): passwords,
  tokens not yet proven and probes are refused with
  :class:`~bearsms_portal.bearsms.errors.AuthBudgetSpent` until the oldest refusals leave the
  window.

The state lives in a key-value store with the Django cache's methods (``get_many``, ``set``,
``add``, ``incr``, ``delete``), so every web process and worker shares it
(:class:`MemoryStore` keeps it in one process). A call with a proven credential costs one
``get_many``; writes happen only when something changes (a refusal, a first success, a probe).
The window is counted in ten buckets (``incr`` is atomic on Redis), so it slides in steps of a
tenth of the window. Only fingerprints of credentials are kept, never the credentials.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Secret",
    "AuthGuard",
    "Admission",
    "GuardPolicy",
    "MemoryStore",
    "InMemoryAuthGuard",
    "DEFAULT_AUTH_GUARD",
]

#: Scopes whose success proves a token (a password's success proves nothing about a token).
TOKEN_SCOPES = frozenset({"token", "admin"})
#: Buckets the sliding window is counted in.
BUCKETS = 10


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


@dataclass(frozen=True)
class GuardPolicy:
    """How sparingly failures are spent (seconds; ``budget`` refusals per ``window``)."""

    budget: int = 5
    window: float = 600.0
    cooldown: float = 900.0
    cooldown_max: float = 4 * 3600.0


@dataclass
class Admission:
    """What the guard decided for one call: ``refusal`` set means "do not send"."""

    server: str
    entry_key: str
    fingerprint: str
    scopes: tuple[str, ...]
    entry: dict = field(default_factory=dict)
    proven: bool = False
    probe: bool = False
    refusal: str = ""  # "", "blocked" or "budget"
    retry_at: float | None = None  # when a refused call may be sent (epoch seconds)
    failures: int = 0  # refusals counted in the window


class MemoryStore:
    """The store methods the guard needs, in one process's memory (expiry included)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, tuple[Any, float | None]] = {}
        self._clock = clock

    def _live(self, key: str):
        value, expires = self._data.get(key, (None, None))
        if expires is not None and expires <= self._clock():
            self._data.pop(key, None)
            return None
        return value

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        with self._lock:
            return {k: v for k in keys if (v := self._live(k)) is not None}

    def set(self, key: str, value: Any, timeout: float | None = None) -> None:
        with self._lock:
            self._data[key] = (value, None if timeout is None else self._clock() + timeout)

    def add(self, key: str, value: Any, timeout: float | None = None) -> bool:
        with self._lock:
            if self._live(key) is not None:
                return False
            self._data[key] = (value, None if timeout is None else self._clock() + timeout)
            return True

    def incr(self, key: str, delta: int = 1) -> int:
        with self._lock:
            value = self._live(key)
            if value is None:
                raise ValueError(f"no key {key!r}")
            self._data[key] = (value + delta, self._data[key][1])
            return value + delta

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)


class AuthGuard:
    """The guard (see the module docstring) over ``store``.

    ``policy`` is a :class:`GuardPolicy` or a callable returning one (read on every call, so
    settings can change it); ``namespace`` separates guards sharing a store; ``clock`` returns
    epoch seconds.

    Per (server, username) one entry: ``{"ok": fingerprint of the token that last worked,
    "failed": {scope: [fingerprint, probe due at, cool-down, turn]}}``; ``turn`` counts the
    refusals and "try again now"s, so each probe has its own claim key. Per server ten counters
    of refusals, one per tenth of the window.
    """

    entry_ttl = 7 * 24 * 3600

    def __init__(
        self,
        store: Any = None,
        *,
        policy: GuardPolicy | Callable[[], GuardPolicy] | None = None,
        namespace: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store if store is not None else MemoryStore(clock)
        self._policy = policy or GuardPolicy()
        self.namespace = namespace
        self.clock = clock

    @property
    def policy(self) -> GuardPolicy:
        return self._policy() if callable(self._policy) else self._policy

    # --- keys ------------------------------------------------------------------------------------
    def _digest(self, *parts: str) -> str:
        return hashlib.sha256("|".join((self.namespace, *parts)).encode()).hexdigest()[:32]

    def entry_key(self, key: tuple[str, str]) -> str:
        server, username = key
        return "bearsms:guard:c:" + self._digest(server, username.lower())

    def _bucket_keys(self, server: str, now: float, policy: GuardPolicy) -> list[tuple[int, str]]:
        width = max(policy.window / BUCKETS, 1.0)
        last = math.floor(now / width)
        first = math.floor((now - policy.window) / width) + 1
        prefix = "bearsms:guard:b:" + self._digest(server) + ":"
        return [(index, f"{prefix}{index}") for index in range(first, last + 1)]

    # --- the budget ------------------------------------------------------------------------------
    def _budget(self, counts: dict[int, int], now: float, policy: GuardPolicy):
        """(refusals in the window, when the budget has room again or None)."""
        used = sum(counts.values())
        if used < policy.budget:
            return used, None
        width = max(policy.window / BUCKETS, 1.0)
        left = used
        for index in sorted(counts):
            left -= counts[index]
            if left < policy.budget:
                return used, (index + 1) * width + policy.window
        return used, now + policy.window

    def _read(self, key: tuple[str, str], now: float, policy: GuardPolicy):
        entry_key = self.entry_key(key)
        buckets = self._bucket_keys(key[0], now, policy)
        found = self.store.get_many([entry_key, *(name for _, name in buckets)])
        counts = {index: int(found[name]) for index, name in buckets if found.get(name)}
        return entry_key, found.get(entry_key) or {}, counts

    def _count_refusal(self, server: str, now: float, policy: GuardPolicy) -> None:
        _, name = self._bucket_keys(server, now, policy)[-1]
        self.store.add(name, 0, policy.window + policy.window / BUCKETS + 60)
        try:
            self.store.incr(name)
        except ValueError:  # expired between add and incr
            self.store.add(name, 1, policy.window + 60)

    # --- one call ------------------------------------------------------------------------------
    def admit(self, key: tuple[str, str], fingerprint: str, scopes: Iterable[str]) -> Admission:
        """Decide whether a call with this credential may be sent (one store round trip for a
        proven credential). Pass the result to :meth:`settle` when the call is over."""
        now, policy = self.clock(), self.policy
        scopes = tuple(scopes)
        entry_key, entry, counts = self._read(key, now, policy)
        failures, free_at = self._budget(counts, now, policy)
        admission = Admission(
            key[0], entry_key, fingerprint, scopes, entry=entry, failures=failures
        )
        failed = entry.get("failed", {})
        refused = [failed[s] for s in scopes if s in failed and failed[s][0] == fingerprint]
        admission.proven = not refused and bool(
            TOKEN_SCOPES & set(scopes) and entry.get("ok") == fingerprint
        )
        if refused:
            due = max(record[1] for record in refused)
            if now < due:
                admission.refusal, admission.retry_at = "blocked", due
                return admission
        if not admission.proven and free_at is not None:
            admission.refusal, admission.retry_at = "budget", free_at
            return admission
        if refused:
            # One probe per turn (each refusal or "try again now" starts a new one), whichever
            # process asks first.
            turn = max(record[3] for record in refused)
            claim = f"{entry_key}:probe:{turn}:{int(due * 1000)}"
            if not self.store.add(claim, 1, policy.cooldown_max + 60):
                admission.refusal, admission.retry_at = "blocked", now + policy.cooldown
                return admission
            admission.probe = True
        return admission

    def settle(self, admission: Admission, outcome: str, scope: str = "") -> None:
        """Record how the admitted call went: ``"ok"`` (authentication passed, whatever the
        op's answer), ``"failed"`` (refused in ``scope``) or ``"unknown"`` (no answer)."""
        if admission.refusal:
            return
        now, policy = self.clock(), self.policy
        entry = {"ok": admission.entry.get("ok"), "failed": dict(admission.entry.get("failed", {}))}
        fingerprint = admission.fingerprint
        if outcome == "ok":
            if admission.proven:
                return  # nothing changed: no write
            for name in admission.scopes:
                if entry["failed"].get(name, [None])[0] == fingerprint:
                    del entry["failed"][name]
            if TOKEN_SCOPES & set(admission.scopes):
                entry["ok"] = fingerprint
        elif outcome == "failed":
            previous = entry["failed"].get(scope)
            cooldown = policy.cooldown
            if previous and previous[0] == fingerprint:
                cooldown = min(previous[2] * 2, policy.cooldown_max)
            turn = previous[3] + 1 if previous and previous[0] == fingerprint else 0
            entry["failed"][scope] = [fingerprint, now + cooldown, cooldown, turn]
            if entry["ok"] == fingerprint and scope in TOKEN_SCOPES:
                entry["ok"] = None
            self._count_refusal(admission.server, now, policy)
        elif admission.probe:
            # No verdict: the credential stays blocked; the next probe comes one cool-down later.
            for name in admission.scopes:
                record = entry["failed"].get(name)
                if record and record[0] == fingerprint:
                    record[1], record[3] = now + record[2], record[3] + 1
        else:
            return
        self.store.set(admission.entry_key, entry, self.entry_ttl)

    # --- operators -----------------------------------------------------------------------------
    def make_due(self, key: tuple[str, str]) -> bool:
        """Make the probe of this account's refused credentials due now ("try again now").
        False when nothing is blocked."""
        entry_key = self.entry_key(key)
        entry = self.store.get_many([entry_key]).get(entry_key)
        if not entry or not entry.get("failed"):
            return False
        now = self.clock()
        for record in entry["failed"].values():
            record[1], record[3] = min(record[1], now), record[3] + 1
        self.store.set(entry_key, entry, self.entry_ttl)
        return True

    def clear(self, key: tuple[str, str]) -> None:
        """Forget everything about this account's credentials (they may be tried at once)."""
        self.store.delete(self.entry_key(key))

    def state(self, server: str, usernames: Iterable[str]) -> GuardState:
        """The budget of ``server`` and which of ``usernames`` have refused credentials, in
        one read (for the health pages)."""
        now, policy = self.clock(), self.policy
        names = sorted({u.lower() for u in usernames})
        keys = {self.entry_key((server, name)): name for name in names}
        buckets = self._bucket_keys(server, now, policy)
        found = self.store.get_many([*keys, *(name for _, name in buckets)])
        counts = {index: int(found[name]) for index, name in buckets if found.get(name)}
        used, free_at = self._budget(counts, now, policy)
        blocked = []
        for entry_key, username in keys.items():
            for scope, (_, retry_at, cooldown, _turn) in sorted(
                found.get(entry_key, {}).get("failed", {}).items()
            ):
                blocked.append(Blocked(username, scope, retry_at, cooldown))
        return GuardState(policy, used, free_at, blocked, now)


@dataclass(frozen=True)
class Blocked:
    """A refused credential: whose, in which scope, when it is probed, the current cool-down."""

    username: str
    scope: str
    retry_at: float
    cooldown: float


@dataclass(frozen=True)
class GuardState:
    policy: GuardPolicy
    failures: int  # refusals in the window
    free_at: float | None  # when the spent budget has room again (None: not spent)
    blocked: list[Blocked]
    now: float

    @property
    def spent(self) -> bool:
        return self.free_at is not None


class InMemoryAuthGuard(AuthGuard):
    """A guard for one process (the client's default; tests)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(None, **options)


DEFAULT_AUTH_GUARD = InMemoryAuthGuard()
