"""Listings (``ds``, ``in``, ``ix``, ``sx``) and their trap-safe feed iterators."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from . import wire
from .paging import scan_after
from .records import (
    DeliveryStatus,
    InboxMessage,
    IncomingMessage,
    OutgoingMessage,
    SandboxMessage,
)

__all__ = ["ListingOps"]

logger = logging.getLogger("bearsms_portal.bearsms.client")


class ListingOps:
    """The read-only feeds; mixed into :class:`~bearsms_portal.bearsms.Client`."""

    def delivery_status(
        self,
        *,
        queue: str | None = None,
        smslog_id: int | None = None,
        src: str | None = None,
        dst: str | None = None,
        dt: str | None = None,
        c: int | None = None,
        last: int | None = None,
        strict: bool = False,
    ) -> list[OutgoingMessage]:
        """``ds``: outgoing messages, newest dispatch first (the server's order).

        Filters as the server applies them: ``queue``/``smslog_id``/``src`` exact; ``dst``
        a loose suffix match **OR-ed** with ``dt`` (a substring of the dispatch time). ``c``
        defaults to 100 on the server; ``last`` is a strict lower bound on ``smslog_id``, not
        a cursor — use :meth:`iter_delivery_status` to read a feed. "No data" (400/401/402)
        gives ``[]``; with ``strict=True`` it raises :class:`NoDeliveryStatus`,
        :class:`StillQueued` (queue waiting/scheduled) or :class:`ProcessedNoRows`.
        """
        return self._listing(
            "ds",
            self._outgoing_row,
            strict,
            queue=queue,
            smslog_id=smslog_id,
            src=src,
            dst=dst,
            dt=dt,
            c=c,
            last=last,
        )

    def _outgoing_row(self, row: dict[str, Any]) -> OutgoingMessage:
        return OutgoingMessage(
            smslog_id=wire.as_int(row["smslog_id"], field="smslog_id"),
            src=wire.as_str(row.get("src")),
            dst=wire.as_str(row.get("dst")),
            msg=wire.as_str(row.get("msg")),
            dt=self._dt(row.get("dt"), self.outgoing_offset),
            update=self._dt(row.get("update"), self.outgoing_offset),
            status=DeliveryStatus(wire.as_int(row["status"], field="status")),
            raw=row,
        )

    def incoming(
        self,
        *,
        src: str | None = None,
        dst: str | None = None,
        kwd: str | None = None,
        dt: str | None = None,
        c: int | None = None,
        last: int | None = None,
        strict: bool = False,
    ) -> list[IncomingMessage]:
        """``in``: incoming SMS handled by the caller's keywords, newest first.

        ``kwd`` exact (case-insensitive), ``dst`` exact, ``src`` suffix match OR-ed with
        ``dt``. No rows (501) → ``[]`` (or :class:`NoDataError` with ``strict=True``).
        """
        return self._listing(
            "in", self._incoming_row, strict, src=src, dst=dst, kwd=kwd, dt=dt, c=c, last=last
        )

    def _incoming_row(self, row: dict[str, Any]) -> IncomingMessage:
        return IncomingMessage(
            id=wire.as_int(row["id"], field="id"),
            src=wire.as_str(row.get("src")),
            dst=wire.as_str(row.get("dst")),
            kwd=wire.as_str(row.get("kwd")),
            msg=wire.as_str(row.get("msg")),
            dt=self._dt(row.get("dt"), self.incoming_offset),
            status=wire.as_int(row.get("status", 1), field="status"),
            raw=row,
        )

    def inbox(
        self,
        *,
        src: str | None = None,
        dst: str | None = None,
        dt: str | None = None,
        c: int | None = None,
        last: int | None = None,
        strict: bool = False,
    ) -> list[InboxMessage]:
        """``ix``: the caller's web inbox, newest first. No rows (501) → ``[]``."""
        return self._listing("ix", self._inbox_row, strict, src=src, dst=dst, dt=dt, c=c, last=last)

    def _inbox_row(self, row: dict[str, Any]) -> InboxMessage:
        src = wire.as_str(row.get("src"))
        offset = self.internal_offset_from(src[1:]) if src.startswith("@") else self.incoming_offset
        return InboxMessage(
            id=wire.as_int(row["id"], field="id"),
            src=src,
            dst=wire.as_str(row.get("dst")),
            msg=wire.as_str(row.get("msg")),
            dt=self._dt(row.get("dt"), offset),
            raw=row,
        )

    def sandbox(
        self,
        *,
        src: str | None = None,
        dst: str | None = None,
        dt: str | None = None,
        c: int | None = None,
        last: int | None = None,
        strict: bool = False,
    ) -> list[SandboxMessage]:
        """``sx``: unhandled incoming SMS of all accounts (admins only; a non-admin always
        gets "no data"), newest first. No rows (501) → ``[]``."""
        return self._listing(
            "sx", self._sandbox_row, strict, src=src, dst=dst, dt=dt, c=c, last=last
        )

    def _sandbox_row(self, row: dict[str, Any]) -> SandboxMessage:
        return SandboxMessage(
            id=wire.as_int(row["id"], field="id"),
            src=wire.as_str(row.get("src")),
            dst=wire.as_str(row.get("dst")),
            msg=wire.as_str(row.get("msg")),
            dt=self._dt(row.get("dt"), self.incoming_offset),
            raw=row,
        )

    # --- trap-safe feed iterators -------------------------------------------------------------

    def _iterate(self, method, id_of, after: int, page_size: int | None, filters) -> Iterator:
        if not isinstance(after, int) or after < 0:
            raise ValueError("after must be a non-negative int")
        size = page_size or self.page_size

        def fetch(lower: int, prefix: str | None, c: int):
            return method(last=lower or None, c=c, dt=prefix, **filters)

        stats: dict[str, int] = {}
        count = 0
        for row in scan_after(fetch, after=after, id_of=id_of, page_size=size, stats=stats):
            count += 1
            yield row
        logger.info(
            "bearsms %s user=%s after=%d: %d rows, %d requests, %d passes",
            method.__name__,
            self.username,
            after,
            count,
            stats["requests"],
            stats["passes"],
        )

    def iter_delivery_status(
        self,
        after: int = 0,
        *,
        page_size: int | None = None,
        src: str | None = None,
        queue: str | None = None,
    ) -> Iterator[OutgoingMessage]:
        """Every ``ds`` row with ``smslog_id > after``, once each, ascending by id.

        Uses only ``last``, ``c`` and ``dt`` (plus the AND-ed ``src``/``queue``); each answer
        holds at most ``page_size`` rows unless more rows share one second. The algorithm is
        in :mod:`bearsms_portal.bearsms.paging`. Rows that arrive during the pass are left
        for the next call. A scheduled message dispatched later keeps its early id and is not
        seen by any ``last`` cursor: track such ids yourself.
        """
        return self._iterate(
            self.delivery_status,
            lambda r: r.smslog_id,
            after,
            page_size,
            {"src": src, "queue": queue},
        )

    def iter_incoming(
        self,
        after: int = 0,
        *,
        page_size: int | None = None,
        dst: str | None = None,
        kwd: str | None = None,
    ) -> Iterator[IncomingMessage]:
        """Every ``in`` row with ``id > after``, once each, ascending (see
        :meth:`iter_delivery_status`)."""
        return self._iterate(
            self.incoming, lambda r: r.id, after, page_size, {"dst": dst, "kwd": kwd}
        )

    def iter_inbox(
        self, after: int = 0, *, page_size: int | None = None, dst: str | None = None
    ) -> Iterator[InboxMessage]:
        """Every ``ix`` row with ``id > after``, once each, ascending."""
        return self._iterate(self.inbox, lambda r: r.id, after, page_size, {"dst": dst})

    def iter_sandbox(
        self, after: int = 0, *, page_size: int | None = None, dst: str | None = None
    ) -> Iterator[SandboxMessage]:
        """Every ``sx`` row with ``id > after``, once each, ascending."""
        return self._iterate(self.sandbox, lambda r: r.id, after, page_size, {"dst": dst})
