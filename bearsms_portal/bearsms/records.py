"""Typed results of the BearSMS client.

Conventions for every record:

- ids and statuses are ``int`` (the server sends JSON ints on PHP ≥ 8.1 and strings on PHP 7);
- credit and amounts are :class:`~decimal.Decimal` (``"0"`` and numbers alike);
- timestamps are timezone-aware :class:`~datetime.datetime` values, computed with the offset the
  server used for that very field (see ``Client(tz_offset=…, server_tz_offset=…)``), or ``None``
  when the server has no time yet (``0000-00-00 00:00:00``) or sent an empty value;
- text fields are ``str`` (never ``None``; an empty XML element becomes ``""``);
- ``raw`` keeps the row exactly as parsed from the wire, for debugging and storage.

Records are frozen dataclasses; none of them ever holds a token.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

__all__ = [
    "DeliveryStatus",
    "AccountStatus",
    "SentMessage",
    "DeliveryRow",
    "IncomingRow",
    "InboxRow",
    "SandboxRow",
    "ContactRow",
    "ContactGroupRow",
    "AccountSummary",
    "AdminResult",
    "AccountAdded",
    "ParentInfo",
    "CreditChange",
]


class DeliveryStatus(enum.IntEnum):
    """``ds`` ``status`` (the ``p_status`` column)."""

    PENDING = 0  #: dispatched to the gateway, no report yet (may stay 0 forever)
    SENT = 1  #: accepted by the gateway/SMSC, no handset report yet
    FAILED = 2  #: failure report, or refused at dispatch (no credit, blocked); refunded
    DELIVERED = 3  #: delivery report arrived; final

    @property
    def is_final(self) -> bool:
        return self in (DeliveryStatus.FAILED, DeliveryStatus.DELIVERED)

    @property
    def label(self) -> str:
        return self.name.capitalize()


class AccountStatus(enum.IntEnum):
    """Account levels (``query`` ``data.user.status``, ``accountadd`` ``data_status``)."""

    ADMIN = 2
    USER = 3
    SUBACCOUNT = 4


@dataclass(frozen=True, slots=True)
class SentMessage:
    """One destination of a ``pv`` reply.

    - ``requested``: the destination as the caller asked for it;
    - ``to``: the destination as the server normalised it (``""`` on an ERR 200 row);
    - ``ok``: the row's ``status`` was ``"OK"``; ``error``: its code (0, or 200);
    - ``smslog_id``: the id ``ds`` will show once dispatched; ``None`` for ``@user``
      (internal inbox messages have no outgoing row) and for failed rows;
    - ``queue``: the 64-hex batch code, usable with ``delivery_status(queue=…)``
      (random and unknown to ``ds`` for ``@user``; ``""`` on failed rows).
    """

    requested: str
    to: str
    ok: bool
    error: int
    smslog_id: int | None
    queue: str
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_internal(self) -> bool:
        """True for an ``@username`` message (web inbox, not an SMS; free of charge)."""
        return self.to.startswith("@")


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    """A ``ds`` row: one dispatched SMS and its delivery status.

    ``dt`` is the **dispatch** time (not submission); ``update`` is the last status change,
    ``None`` until the first delivery report. ``msg`` excludes the footer and has every ``"``
    replaced by ``'`` by the server.
    """

    smslog_id: int
    src: str
    dst: str
    msg: str
    dt: datetime | None
    update: datetime | None
    status: DeliveryStatus
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def id(self) -> int:
        return self.smslog_id


@dataclass(frozen=True, slots=True)
class IncomingRow:
    """An ``in`` row: an incoming SMS handled by one of the caller's keywords.

    ``kwd`` is upper-case; ``msg`` is the text after the keyword; ``src`` is ``""`` for
    alphanumeric senders; ``status`` is always 1.
    """

    id: int
    src: str
    dst: str
    kwd: str
    msg: str
    dt: datetime | None
    status: int
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class _TextRow:
    """The fields ``ix`` and ``sx`` rows share."""

    id: int
    src: str
    dst: str
    msg: str
    dt: datetime | None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class InboxRow(_TextRow):
    """An ``ix`` row: the caller's web inbox. ``src`` is ``"@sender"`` for internal messages
    (then ``dst`` is ``""`` and ``msg`` keeps HTML entities such as ``&amp;``)."""

    @property
    def is_internal(self) -> bool:
        return self.src.startswith("@")


@dataclass(frozen=True, slots=True)
class SandboxRow(_TextRow):
    """An ``sx`` row: an unhandled incoming SMS (any account; admins only), full raw text."""


@dataclass(frozen=True, slots=True)
class ContactRow:
    """A ``get_contact`` row: ``pid``, ``name`` (``p_desc``), ``mobile`` (``p_num``),
    ``email``, ``tags``."""

    pid: int
    name: str
    mobile: str
    email: str
    tags: str
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ContactGroupRow:
    """A ``get_contact_group`` row. ``flag_sender``: 0 owner only, 1 members, 2 everyone."""

    gpid: int
    name: str
    code: str
    flag_sender: int
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class AccountSummary:
    """``query``: the caller's account and the highest ids of its feeds (0 when none).

    ``credit`` is the server's cached figure (stale for up to a recalculation).
    ``last_outgoing_id`` counts only dispatched rows.
    """

    username: str
    uid: int
    status: AccountStatus | int
    name: str
    email: str
    mobile: str
    credit: Decimal
    last_inbox_id: int
    last_incoming_id: int
    last_outgoing_id: int
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class AdminResult:
    """The answer of an admin write: ``info`` is the server's sentence (``""`` if none)."""

    info: str = ""


@dataclass(frozen=True, slots=True)
class AccountAdded(AdminResult):
    """``accountadd`` succeeded. ``username`` is the name the server stored (it lowercases and
    filters what it is given); ``verified`` is True when the server answered HTTP 500 (a PHP 8
    quirk) and the client confirmed the account exists with ``parentget``."""

    username: str = ""
    verified: bool = False


@dataclass(frozen=True, slots=True)
class ParentInfo:
    """``parentget``: the parent's uid and username."""

    parent_uid: int
    parent: str


@dataclass(frozen=True, slots=True)
class CreditChange:
    """``creditadd``/``creditdeduct``: ``amount`` as echoed (positive for a deduct);
    ``balance`` is the server's **stale, pre-change** cached credit, ``None`` when it was zero.
    Keep a local ledger; do not treat ``balance`` as the new balance."""

    amount: Decimal
    balance: Decimal | None
