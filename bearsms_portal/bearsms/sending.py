"""``pv``: destination checks, request chunking and the server's echo of each destination."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from . import errors as e
from . import wire
from .records import SentMessage

__all__ = ["SendingOps"]

_NUMBER_CHARS = re.compile(r"[\s\-().]")


def _clean_destination(destination: str) -> str:
    """Validate one ``pv`` destination client-side and return what to send.

    ``@username`` and ``#group`` pass through; a phone number may contain spaces, dashes,
    dots and brackets, and must then be an optional ``+`` and 1–15 characters in all
    (the server cuts longer numbers to 15 characters and sends to whatever is left).
    """
    text = str(destination).strip()
    if text.startswith("@"):
        if not re.fullmatch(r"@[a-z0-9._-]+", text):
            raise e.InvalidDestination(None, "pv", f"invalid @username destination {text!r}")
        return text
    if text.startswith("#"):
        if not re.fullmatch(r"#[A-Za-z0-9_-]{2,}", text):
            raise e.InvalidDestination(None, "pv", f"invalid #group destination {text!r}")
        return text
    number = _NUMBER_CHARS.sub("", text)
    if not re.fullmatch(r"\+?\d+", number) or len(number) > 15:
        raise e.InvalidDestination(
            None, "pv", f"invalid number {text[:20]!r}: digits and an optional +, at most 15"
        )
    return number


def _echo_matches(asked: str, echoed: str) -> bool:
    """Does the server's normalised ``to`` correspond to ``asked`` (§4.1.3)?

    The server may replace a leading ``0`` by the account's prefix (``0811…`` → ``62811…``),
    prepend the prefix to a local-length number, and add or remove a ``+``.
    """
    if asked.startswith(("@", "#")):
        return echoed == asked if asked.startswith("@") else bool(echoed)
    a, b = asked.lstrip("+"), echoed.lstrip("+")
    if not b.isdigit():
        return False
    if a == b:
        return True
    if a.startswith("0") and len(a) > 1 and b.endswith(a[1:]) and len(b) > len(a[1:]):
        return True
    return b.endswith(a) and len(b) > len(a)


class SendingOps:
    """``send_message`` (op ``pv``); mixed into :class:`~bearsms_portal.bearsms.Client`."""

    def send_message(
        self,
        to: str | Sequence[str],
        message: str,
        *,
        sender: str | None = None,
        footer: str | None = None,
        nofooter: bool | None = None,
        unicode: bool | None = None,
        msg_type: str | None = None,
        schedule: datetime | str | None = None,
    ) -> list[SentMessage]:
        """``pv``: send ``message`` to each destination; one :class:`SentMessage` per row.

        ``to`` is a number, ``@username``, ``#groupcode``, a list of them, or a
        comma-separated string (split here: the real server cannot take lists, §4.1.3).
        Numbers go ``destinations_per_request`` at a time (1 by default; ``@user`` and
        ``#group`` always alone), in the order given. Numbers are
        validated first (:class:`InvalidDestination`, nothing sent). Each echoed ``to`` is
        checked against what was asked after the server's normalisation; a mangled answer
        raises :class:`InvalidDestination` with ``results`` holding what the server did.

        ``sender`` is used only if it is an approved sender ID (else silently replaced by
        the server); ``nofooter``/``unicode`` are sent as ``1``/``0`` (the server's ``true``
        parsing is broken, §4.1.1); ``msg_type="flash"`` for flash SMS. ``schedule`` is an
        aware datetime (converted to the account's zone, see ``account_tz_offset``) and must
        not be in the past (the server would send at once, silently).

        Errors: :class:`SendRejected` (HTTP 500, nothing queued),
        :class:`EmptyDestinationOrMessage` (201), :class:`AuthenticationFailed`,
        :class:`OutcomeUnknown`. When several requests are made, the exception raised by a
        later one carries ``results``: the rows already sent.
        """
        if isinstance(to, str):
            asked = [part for part in to.split(",") if part.strip()]
        else:
            asked = [str(part) for part in to]
        if not asked:
            raise e.InvalidDestination(None, "pv", "no destination")
        destinations = [_clean_destination(d) for d in asked]
        base: dict[str, Any] = {
            "msg": message,
            "from": sender,
            "footer": footer,
            "nofooter": None if nofooter is None else bool(nofooter),
            "unicode": None if unicode is None else bool(unicode),
            "type": msg_type,
            "schedule": self._schedule_text(schedule),
        }
        results: list[SentMessage] = []
        for chunk in self._chunks(destinations):
            try:
                results.extend(self._send_chunk(chunk, base))
            except e.BearSMSError as exc:
                exc.results = results + list(getattr(exc, "results", []))
                raise
        return results

    def _chunks(self, destinations: list[str]) -> Iterator[list[str]]:
        """Numbers ``destinations_per_request`` at a time; ``@user``/``#group`` always alone."""
        numbers: list[str] = []
        for destination in destinations:
            if destination.startswith(("@", "#")):
                if numbers:
                    yield numbers
                    numbers = []
                yield [destination]
                continue
            numbers.append(destination)
            if len(numbers) == self.destinations_per_request:
                yield numbers
                numbers = []
        if numbers:
            yield numbers

    def _schedule_text(self, schedule: datetime | str | None) -> str | None:
        if schedule is None:
            return None
        if isinstance(schedule, str):
            try:
                datetime.strptime(schedule, "%Y-%m-%d %H:%M:%S")
            except ValueError:
                raise ValueError("schedule must be 'YYYY-MM-DD hh:mm:ss' or a datetime") from None
            return schedule
        if schedule.tzinfo is None:
            raise ValueError("schedule must be timezone-aware")
        if schedule < datetime.now(UTC) - timedelta(seconds=60):
            raise ValueError("schedule is in the past (the server would send immediately)")
        local = schedule.astimezone(UTC) + self.schedule_offset
        return local.strftime("%Y-%m-%d %H:%M:%S")

    def _send_chunk(self, chunk: list[str], base: dict[str, Any]) -> list[SentMessage]:
        envelope = self._envelope("pv", {"to": ",".join(chunk), **base}, write=True)
        data = envelope.get("data")
        if data is None:  # PHP 7: @user-only failure gives a bare envelope
            raise e.SendRejected(None, "pv", "nothing was queued (no data in the answer)")
        if isinstance(data, dict):
            data = [data]
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise e.MalformedResponse(None, "pv", "data is not a list of rows")
        rows = [self._record("pv", self._sent_row, row) for row in data]
        is_group = len(chunk) == 1 and chunk[0].startswith("#")
        if is_group:
            return [
                SentMessage(chunk[0], r.to, r.ok, r.error, r.smslog_id, r.queue, r.raw)
                for r in rows
            ]
        matched = len(rows) == len(chunk) and all(
            _echo_matches(asked, row.to) or not row.ok
            for asked, row in zip(chunk, rows, strict=False)
        )
        results = (
            [
                SentMessage(asked, r.to, r.ok, r.error, r.smslog_id, r.queue, r.raw)
                for asked, r in zip(chunk, rows, strict=False)
            ]
            if len(rows) == len(chunk)
            else [
                SentMessage(",".join(chunk), r.to, r.ok, r.error, r.smslog_id, r.queue, r.raw)
                for r in rows
            ]
        )
        if not matched:
            echoed = ", ".join(r.to for r in rows)
            raise e.InvalidDestination(
                None,
                "pv",
                f"the server answered for {echoed!r} when asked for "
                f"{', '.join(chunk)!r}: the destination list was mangled",
                results=results,
            )
        failed = [r for r in results if not r.ok]
        if failed and len(chunk) == 1:
            raise e.SendFailed(failed[0].error or 200, "pv", "send message failed", results=results)
        return results

    @staticmethod
    def _sent_row(row: dict[str, Any]) -> SentMessage:
        ok = wire.as_str(row.get("status")) == "OK"
        return SentMessage(
            requested="",
            to=wire.as_str(row.get("to")),
            ok=ok,
            error=wire.as_int(row.get("error") or 0, field="error"),
            smslog_id=wire.as_optional_int(row.get("smslog_id"), field="smslog_id"),
            queue=wire.as_str(row.get("queue")),
            raw=row,
        )
