"""playSMS's clocks, reproduced.

playSMS stores naive ``YYYY-MM-DD hh:mm:ss`` strings. Two offsets matter:

- the server's PHP clock (``server_timezone``), which produces "server wall clock" time;
- ``gateway_timezone`` (and per-account ``datetime_timezone``), subtracted to get "GMT+0".

Negative offsets count as +0000 (playSMS clamps them). In a consistent deployment the server clock
equals the gateway zone and "GMT+0" is true UTC; where the captures were made the clock was UTC and
the gateway +0700, so `ds` times run 7 hours behind UTC while `in`/`sx` times are UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from .profiles import Switches

FORMAT = "%Y-%m-%d %H:%M:%S"
ZERO = "0000-00-00 00:00:00"
_OFFSET = re.compile(r"^\s*([+-]?)(\d{1,2}):?(\d{2})?\s*$")


def offset(tz: str) -> timedelta:
    """``+0700`` → 7 h. Negative or unparsable offsets count as zero, as in playSMS."""
    match = _OFFSET.match(tz or "")
    if not match or match.group(1) == "-":
        return timedelta(0)
    return timedelta(hours=int(match.group(2)), minutes=int(match.group(3) or 0))


def fmt(moment: datetime) -> str:
    return moment.strftime(FORMAT)


def server_wall(now: datetime, sw: Switches) -> datetime:
    """The server's local wall clock (naive)."""
    return now.astimezone(UTC).replace(tzinfo=None) + offset(sw.server_timezone)


def gmt0(now: datetime, sw: Switches) -> datetime:
    """playSMS "GMT+0": server wall clock minus the gateway offset (naive)."""
    return server_wall(now, sw) - offset(sw.gateway_timezone)


def account_offset(tz: str, sw: Switches) -> timedelta:
    """An account's offset: its own ``datetime_timezone``, else the gateway's."""
    return offset(tz) if (tz or "").strip() else offset(sw.gateway_timezone)


def outgoing_dt(now: datetime, sw: Switches) -> str:
    """`ds` dt/update: GMT+0."""
    return fmt(gmt0(now, sw))


def incoming_dt(now: datetime, account_tz: str, sw: Switches) -> str:
    """`in`/`sx` (and non-internal `ix`) dt, fixed when the row is stored (§1.7):
    server wall clock + gateway offset − the *receiving* account's offset (its own zone, else
    the gateway's). Without an own zone that is the server's wall clock."""
    return fmt(server_wall(now, sw) + offset(sw.gateway_timezone) - account_offset(account_tz, sw))


def user_message_dt(now: datetime, sender_tz: str, sw: Switches) -> str:
    """`ix` dt of an `@user` message: GMT+0 shifted back by the sender's offset."""
    return fmt(gmt0(now, sw) - account_offset(sender_tz, sw))


_SCHEDULE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y/%m/%d %H:%M:%S")
EPOCH = datetime(1970, 1, 1)


def parse_schedule(value: str, sender_tz: str, now: datetime, sw: Switches) -> str:
    """The GMT+0 time at which a `pv` with ``schedule=value`` may go out.

    The text is read as wall-clock time in the server's zone (as ``strtotime`` does), then the
    sender's offset is subtracted. Garbage becomes 1970-01-01, i.e. "send now".
    """
    value = (value or "").strip()
    if not value:
        return fmt(gmt0(now, sw))
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(value.replace("/", "-"))
    except ValueError:
        for pattern in _SCHEDULE_FORMATS:
            try:
                parsed = datetime.strptime(value, pattern)
                break
            except ValueError:
                continue
    if parsed is None:
        return fmt(EPOCH)
    if parsed.tzinfo is not None:  # an explicit zone is honoured by strtotime, then shifted
        parsed = parsed.astimezone(UTC).replace(tzinfo=None) + offset(sw.server_timezone)
    try:
        return fmt(parsed - account_offset(sender_tz, sw))
    except OverflowError:
        return fmt(EPOCH)
