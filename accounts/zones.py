"""Each portal user's time zone: the one place that reads it, and the middleware that makes
every page show and read dates in it.

A user's zone is ``PortalProfile.time_zone`` (an IANA name); empty, or a name this machine's
time zone database does not know, means the portal's ``TIME_ZONE``. Pages label times with
:func:`zone_label`.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime, timedelta, tzinfo
from datetime import timezone as dt_timezone
from functools import cache

from django.conf import settings
from django.utils import timezone

from .roles import profile_of


@cache
def zone_names() -> tuple[str, ...]:
    """Every IANA zone name this machine knows, sorted (the profile page's choices)."""
    return tuple(sorted(zoneinfo.available_timezones()))


#: an account's zone as BearSMS stores it: a UTC offset, ``+HHMM`` or ``-HHMM``
OFFSET_RE = re.compile(r"([+-])(\d{2})([0-5]\d)")
#: the offsets in use on Earth, UTC-12:00 to UTC+14:00, in minutes
OFFSET_RANGE = (-12 * 60, 14 * 60)
OFFSET_RULE = "Use +HHMM between -1200 and +1400, e.g. +0700."


def is_offset(value: str) -> bool:
    """Whether ``value`` is a ``+HHMM`` offset within :data:`OFFSET_RANGE`."""
    match = OFFSET_RE.fullmatch(value or "")
    if match is None:
        return False
    sign, hours, minutes = match.groups()
    total = (int(hours) * 60 + int(minutes)) * (-1 if sign == "-" else 1)
    return OFFSET_RANGE[0] <= total <= OFFSET_RANGE[1]


def offset_choices() -> list[tuple[str, str]]:
    """The ``+HHMM`` offsets BearSMS stores for an account, each named by the zones that have it
    now (``+0700 — Asia/Bangkok, Asia/Jakarta, …``); first the server's own zone (empty)."""
    now = timezone.now()
    names: dict[str, list[str]] = {}
    for name in zone_names():
        if "/" not in name or name.startswith(("Etc/", "SystemV/", "US/")):
            continue
        offset = now.astimezone(zoneinfo.ZoneInfo(name)).strftime("%z")
        names.setdefault(offset, []).append(name)
    hours = [f"{sign}{h:02d}{m:02d}" for sign in "-+" for h in range(15) for m in (0, 30, 45)]
    offsets = sorted(set(names) | {o for o in hours if o[0] == "+" and o[3:] == "00"} | {"+0000"})
    offsets.sort(key=lambda o: (1 if o[0] == "+" else -1) * (int(o[1:3]) * 60 + int(o[3:])))
    choices = [("", "The server's zone")]
    for offset in offsets:
        cities = names.get(offset, [])
        shown = ", ".join(cities[:3]) + (", …" if len(cities) > 3 else "")
        choices.append((offset, f"UTC{offset[:3]}:{offset[3:]}" + (f" — {shown}" if shown else "")))
    return choices


def is_zone_name(name: str) -> bool:
    return name in zone_names()


def default_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def time_zone_of(user) -> zoneinfo.ZoneInfo:
    """The zone ``user`` sees and types dates in (the portal's ``TIME_ZONE`` by default)."""
    profile = profile_of(user)
    name = profile.time_zone if profile is not None else ""
    if name and is_zone_name(name):
        return zoneinfo.ZoneInfo(name)
    return default_zone()


def zone_label(zone: zoneinfo.ZoneInfo, when: datetime | None = None) -> str:
    """``Europe/Paris (UTC+01:00)`` — the zone's name and its offset at ``when`` (now)."""
    when = when or timezone.now()
    offset = when.astimezone(zone).strftime("%z") or "+0000"
    return f"{zone.key} (UTC{offset[:3]}:{offset[3:]})"


def account_zone(account) -> tzinfo:
    """The zone of a BearSMS account: its ``+HHMM`` offset, else the portal's ``TIME_ZONE``
    (whom an invitation for that account reaches: it has no portal profile yet)."""
    offset = account.timezone or ""
    if len(offset) == 5 and offset[0] in "+-" and offset[1:].isdigit():
        minutes = int(offset[1:3]) * 60 + int(offset[3:])
        return dt_timezone(timedelta(minutes=-minutes if offset[0] == "-" else minutes))
    return default_zone()


def mail_time(moment: datetime, zone: tzinfo) -> str:
    """A time as an e-mail shows it, in the recipient's zone and naming it (an e-mail is read
    without the page's zone note): ``2026-11-30 14:57 Asia/Jakarta (UTC+07:00)``."""
    local = moment.astimezone(zone)
    offset = local.strftime("%z") or "+0000"
    utc = f"UTC{offset[:3]}:{offset[3:]}"
    key = getattr(zone, "key", None)
    return f"{local:%Y-%m-%d %H:%M} " + (f"{key} ({utc})" if key else utc)


class UserTimeZoneMiddleware:
    """Activates the user's zone for the request: templates and form fields show and read
    dates in it. Place after the authentication middleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            timezone.activate(time_zone_of(user))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
