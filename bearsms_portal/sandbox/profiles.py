"""Profiles: every version-dependent or deployment-dependent behaviour as one switch.

``playsms-1.4.8`` is exactly what the captures in ``shared/captures/`` show (PHP 8.2, clock in
UTC, ``gateway_timezone`` +0700, the credit-recalculation bug, the accountadd 500).
``documented`` is what the seed document (the public API page) promises.

The profile is read from ``settings.SANDBOX_PROFILE`` on every request, and single switches can be
overridden with ``settings.SANDBOX_SWITCHES = {"native_ints": False, ...}``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from django.conf import settings

PLAYSMS_148 = "playsms-1.4.8"
DOCUMENTED = "documented"


@dataclass(frozen=True)
class Switches:
    name: str
    # PHP >= 8: "nothing queued" pv and array parameters are HTTP 500 with an empty body;
    # PHP 7: a JSON row with ERR 200 (or a bare envelope for @user-only failures).
    php8: bool = True
    # PHP >= 8.1 pdo_mysql: DB ids/statuses in listings are JSON ints (else strings).
    native_ints: bool = True
    # The seed's promise: `to` may be a comma list of numbers, @users and #groups.
    split_destinations: bool = False
    # The seed's promise: insufficient credit on pv is `ERR 103` (code: never emitted).
    err_103: bool = False
    # PHP 8 + unpatched template: a successful accountadd via app=ws is HTTP 500.
    accountadd_500: bool = True
    # "all" (intended) or "uid1_only" (the upstream operator-precedence bug).
    credit_recalc: str = "all"
    # Cached credit changes only at recalculation; creditadd/creditdeduct answer the stale,
    # pre-change balance. Off: every credit change is applied to the cached figure at once.
    stale_credit: bool = True
    brute_force: bool = True
    brute_force_limit: int = 10
    gateway_timezone: str = "+0700"
    # The server's PHP clock offset. Equal to gateway_timezone in a consistent deployment;
    # "+0000" where the captures were made (so `ds` dt runs 7 hours behind UTC).
    server_timezone: str = "+0700"
    # Server config "custom footer" allowed: accountconf saves data_footer.
    custom_footer: bool = True
    mail_works: bool = False
    default_sender: str = "1234"
    default_replace_zero: str = ""
    plus_sign_remove: bool = False
    plus_sign_add: bool = False
    sms_max_count: int = 3
    daemon_delay: float = 1.0
    dlr_delay: float = 1.0
    receive_delay: float = 1.0
    recalc_interval: float = 30.0
    # DLR outcome probabilities (the rest: status 1, sent, no final report).
    p_delivered: float = 1.0
    p_failed: float = 0.0
    # A gateway that reports "sent" (1) first and the final status one dlr_delay later; the
    # dev gateway of the captures goes 0 → 3 directly.
    two_step_dlr: bool = False
    default_credit: float = 0.0


PROFILES: dict[str, Switches] = {
    PLAYSMS_148: Switches(
        name=PLAYSMS_148,
        credit_recalc="uid1_only",
        server_timezone="+0000",
        custom_footer=False,
    ),
    DOCUMENTED: Switches(
        name=DOCUMENTED,
        php8=False,
        native_ints=False,
        split_destinations=True,
        err_103=True,
        accountadd_500=False,
        stale_credit=False,
        brute_force=False,
        mail_works=True,
        # a consistent deployment: the PHP clock runs in gateway_timezone (the shipped +0700)
    ),
}

SWITCH_NAMES = {f.name for f in fields(Switches)} - {"name"}


def current() -> Switches:
    """The switches in force for this request (profile + ``SANDBOX_SWITCHES`` overrides)."""
    name = settings.SANDBOX_PROFILE or DOCUMENTED
    try:
        switches = PROFILES[name]
    except KeyError as exc:
        known = sorted(PROFILES)
        raise ValueError(f"unknown SANDBOX_PROFILE {name!r}; use one of {known}") from exc
    overrides = settings.SANDBOX_SWITCHES or {}
    unknown = set(overrides) - SWITCH_NAMES
    if unknown:
        raise ValueError(f"unknown SANDBOX_SWITCHES {sorted(unknown)}")
    return replace(switches, **overrides) if overrides else switches


def seed() -> int:
    return int(settings.SANDBOX_SEED or 0)
