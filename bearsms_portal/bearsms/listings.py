"""Listings (``ds``, ``in``, ``ix``, ``sx``) and their trap-safe feed iterators."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from . import wire
from .paging import scan_after
from .records import (
    DeliveryRow,
    DeliveryStatus,
    InboxRow,
    IncomingRow,
    SandboxRow,
)

__all__ = ["ListingOps"]

#: called with each raw answer of a feed walk (a list of records).
OnAnswer = Callable[[list], None] | None


def _id_of(row) -> int:
    return row.id  # DeliveryRow.id is its smslog_id


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
    ) -> list[DeliveryRow]:
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

    def _outgoing_row(self, row: dict[str, Any]) -> DeliveryRow:
        return DeliveryRow(
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
    ) -> list[IncomingRow]:
        """``in``: incoming SMS handled by the caller's keywords, newest first.

        ``kwd`` exact (case-insensitive), ``dst`` exact, ``src`` suffix match OR-ed with
        ``dt``. No rows (501) → ``[]`` (or :class:`NoDataError` with ``strict=True``).
        """
        return self._listing(
            "in", self._incoming_row, strict, src=src, dst=dst, kwd=kwd, dt=dt, c=c, last=last
        )

    def _incoming_row(self, row: dict[str, Any]) -> IncomingRow:
        return IncomingRow(
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
    ) -> list[InboxRow]:
        """``ix``: the caller's web inbox, newest first. No rows (501) → ``[]``."""
        return self._listing("ix", self._inbox_row, strict, src=src, dst=dst, dt=dt, c=c, last=last)

    def _inbox_row(self, row: dict[str, Any]) -> InboxRow:
        src = wire.as_str(row.get("src"))
        offset = self.internal_offset_from(src[1:]) if src.startswith("@") else None
        return self._text_row(InboxRow, row, offset)

    def sandbox(
        self,
        *,
        src: str | None = None,
        dst: str | None = None,
        dt: str | None = None,
        c: int | None = None,
        last: int | None = None,
        strict: bool = False,
    ) -> list[SandboxRow]:
        """``sx``: unhandled incoming SMS of all accounts (admins only; a non-admin always
        gets "no data"), newest first. No rows (501) → ``[]``."""
        return self._listing(
            "sx", self._sandbox_row, strict, src=src, dst=dst, dt=dt, c=c, last=last
        )

    def _sandbox_row(self, row: dict[str, Any]) -> SandboxRow:
        return self._text_row(SandboxRow, row)

    def _text_row(self, cls, row: dict[str, Any], offset=None):
        """An ``ix`` or ``sx`` row; ``dt`` in the server's clock unless ``offset`` says."""
        return cls(
            id=wire.as_int(row["id"], field="id"),
            src=wire.as_str(row.get("src")),
            dst=wire.as_str(row.get("dst")),
            msg=wire.as_str(row.get("msg")),
            dt=self._dt(row.get("dt"), offset if offset is not None else self.incoming_offset),
            raw=row,
        )

    # --- trap-safe feed iterators -------------------------------------------------------------

    def _iterate(
        self, method, after: int, page_size: int | None, filters, on_answer: OnAnswer
    ) -> Iterator:
        if not isinstance(after, int) or after < 0:
            raise ValueError("after must be a non-negative int")
        size = page_size or self.page_size

        def fetch(lower: int, prefix: str | None, c: int):
            rows = method(last=lower or None, c=c, dt=prefix, **filters)
            if on_answer is not None:
                on_answer(rows)
            return rows

        stats: dict[str, int] = {}
        count = 0
        for row in scan_after(fetch, after=after, id_of=_id_of, page_size=size, stats=stats):
            count += 1
            yield row
        # a pull that found nothing is routine (every few seconds): DEBUG
        logger.log(
            logging.INFO if count else logging.DEBUG,
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
        on_answer: OnAnswer = None,
    ) -> Iterator[DeliveryRow]:
        """Every ``ds`` row with ``smslog_id > after``, once each, ascending by id.

        Uses only ``last``, ``c`` and ``dt`` (plus the AND-ed ``src``/``queue``); each answer
        holds at most ``page_size`` rows unless more rows share one second. The algorithm is
        in :mod:`bearsms_portal.bearsms.paging`. Rows are yielded once their pass is complete;
        rows that arrive during the pass are left for the next call. A scheduled message
        dispatched later keeps its early id and is not seen by any ``last`` cursor: track such
        ids yourself.

        ``on_answer(rows)`` is called with every answer as soon as it arrives (before its rows
        are yielded), for a caller that writes while the walk goes on; an exception raised in
        it stops the walk. Every ``iter_*`` method takes it.
        """
        return self._iterate(
            self.delivery_status, after, page_size, {"src": src, "queue": queue}, on_answer
        )

    def iter_incoming(
        self,
        after: int = 0,
        *,
        page_size: int | None = None,
        dst: str | None = None,
        kwd: str | None = None,
        on_answer: OnAnswer = None,
    ) -> Iterator[IncomingRow]:
        """Every ``in`` row with ``id > after``, once each, ascending (see
        :meth:`iter_delivery_status`)."""
        return self._iterate(self.incoming, after, page_size, {"dst": dst, "kwd": kwd}, on_answer)

    def iter_inbox(
        self,
        after: int = 0,
        *,
        page_size: int | None = None,
        dst: str | None = None,
        on_answer: OnAnswer = None,
    ) -> Iterator[InboxRow]:
        """Every ``ix`` row with ``id > after``, once each, ascending."""
        return self._iterate(self.inbox, after, page_size, {"dst": dst}, on_answer)

    def iter_sandbox(
        self,
        after: int = 0,
        *,
        page_size: int | None = None,
        dst: str | None = None,
        on_answer: OnAnswer = None,
    ) -> Iterator[SandboxRow]:
        """Every ``sx`` row with ``id > after``, once each, ascending."""
        return self._iterate(self.sandbox, after, page_size, {"dst": dst}, on_answer)
