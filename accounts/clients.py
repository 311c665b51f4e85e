"""Factories for BearSMS clients: the only place that reads credentials.

Services get their client here, never by building one themselves, so credentials, timeouts
and the server address come from one place.
"""

from collections.abc import Mapping
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache

from bearsms_portal.bearsms import Client
from bearsms_portal.bearsms.auth import AuthGuard, GuardPolicy


def _guard_policy() -> GuardPolicy:
    return GuardPolicy(
        budget=settings.BEARSMS_AUTH_BUDGET,
        window=settings.BEARSMS_AUTH_WINDOW,
        cooldown=settings.BEARSMS_AUTH_COOLDOWN,
        cooldown_max=settings.BEARSMS_AUTH_COOLDOWN_MAX,
    )


class CacheAuthGuard(AuthGuard):
    """The client's auth guard (:mod:`bearsms_portal.bearsms.auth`) kept in the shared cache,
    so every web process and Celery worker spends one budget and runs one probe; its limits
    come from the ``BEARSMS_AUTH_*`` settings."""

    def __init__(self, namespace: str = ""):
        super().__init__(cache, policy=_guard_policy, namespace=namespace)


AUTH_GUARD = CacheAuthGuard()


class AccountZones(Mapping):
    """``{username: own time zone}`` of the accounts in the portal, read on demand (the client
    looks up the sender of each ``@user`` inbox row). Empty: the account follows the gateway."""

    def __init__(self):
        self._zones: dict[str, str] = {}

    def _load(self, username: str) -> str:
        if username not in self._zones:
            self._zones[username] = _zone_of(username)
        return self._zones[username]

    def __getitem__(self, username: str) -> str:
        zone = self._load(username)
        if not zone:
            raise KeyError(username)
        return zone

    def __iter__(self):
        from .models import BearSMSAccount

        return iter(BearSMSAccount.objects.exclude(timezone="").values_list("username", flat=True))

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _client(username: str, token: str | None, *, account_tz: str = "") -> Client:
    """``account_tz``: the account's own ``datetime_timezone`` as the portal knows it ('' =
    none: the gateway's zone)."""
    return Client(
        settings.BEARSMS_URL,
        username,
        token,
        timeout=settings.BEARSMS_TIMEOUT,
        tz_offset=settings.BEARSMS_GATEWAY_TZ,
        server_tz_offset=settings.BEARSMS_SERVER_TZ or None,
        # the zone the server reads this account's `schedule` in (gateway zone when unset)
        account_tz_offset=account_tz or None,
        # @user inbox rows are shifted by the sender's zone (§1.7)
        sender_tz_offsets=AccountZones(),
        destinations_per_request=settings.BEARSMS_DESTINATIONS_PER_REQUEST,
        auth_guard=AUTH_GUARD,
    )


def _zone_of(username: str) -> str:
    from .models import BearSMSAccount

    row = BearSMSAccount.objects.filter(username=username).values("timezone").first()
    return row["timezone"] if row else ""


def admin_client() -> Client:
    """A client acting with the operator (admin) credentials from the environment (with the
    admin account's own zone when the portal knows the account)."""
    username = settings.BEARSMS_ADMIN_USERNAME
    return _client(username, settings.BEARSMS_ADMIN_TOKEN, account_tz=_zone_of(username))


class AccountNotLinked(Exception):
    """The portal holds no token for this account yet (see the account's ``link_error``)."""

    def __init__(self, username: str, reason: str = ""):
        self.username = username
        self.reason = reason
        detail = f": {reason}" if reason else ""
        super().__init__(f"BearSMS account {username!r} is not linked{detail}")


def client_for(account) -> Client:
    """A client acting as ``account`` with its own token. Raises ``AccountNotLinked``."""
    if not account.is_linked:
        raise AccountNotLinked(account.username, account.link_error)
    return _client(account.username, account.reveal_token(), account_tz=account.timezone)


def client_for_username(username: str) -> Client:
    """A client for a local account by username; the admin username gives ``admin_client()``.

    Raises ``BearSMSAccount.DoesNotExist`` for an unknown username and ``AccountNotLinked``
    when the portal holds no token for it.
    """
    from .models import BearSMSAccount

    try:
        account = BearSMSAccount.objects.get(username=username)
    except BearSMSAccount.DoesNotExist:
        if username == settings.BEARSMS_ADMIN_USERNAME:
            return admin_client()
        raise
    if username == settings.BEARSMS_ADMIN_USERNAME and not account.is_linked:
        return admin_client()
    return client_for(account)


def guard_key(username: str) -> tuple[str, str]:
    """The auth guard's key of ``username`` on the configured server (as the client builds it)."""
    return Client.guard_key_for(settings.BEARSMS_URL, username)


def guard_report() -> dict:
    """The auth guard's state for the portal's server and accounts (the sync health page and
    /healthz): the failure budget and the credentials held back, with times as datetimes."""
    from .models import BearSMSAccount

    usernames = [*BearSMSAccount.objects.values_list("username", flat=True)]
    usernames.append(settings.BEARSMS_ADMIN_USERNAME)
    state = AUTH_GUARD.state(guard_key("")[0], usernames)
    moment = lambda epoch: datetime.fromtimestamp(epoch, UTC) if epoch else None  # noqa: E731
    return {
        "failures": state.failures,
        "budget": state.policy.budget,
        "window": state.policy.window,
        "spent": state.spent,
        "free_at": moment(state.free_at),
        "blocked": [
            {
                "username": b.username,
                "scope": b.scope,
                "retry_at": moment(b.retry_at),
                "cooldown": b.cooldown,
                "due": b.retry_at <= state.now,
            }
            for b in state.blocked
        ],
    }


def guard_health() -> dict:
    """The ``auth_guard`` entry of /healthz. Always ``ok``: a spent budget holds back passwords
    and new tokens only, and taking the portal out of a load balancer for it would lock
    everyone out — what the guard exists to prevent."""
    report = guard_report()
    return {
        "ok": True,
        "state": "paused" if report["spent"] else "open",
        "failures": report["failures"],
        "budget": report["budget"],
        "window_s": report["window"],
        "held_back": len(report["blocked"]),
    }


def client_without_token(username: str) -> Client:
    """A client for ops that take no token (``get_token``, ``ws_login_url``)."""
    return _client(username, None)
