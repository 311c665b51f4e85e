"""Keyset ("seek") pagination: pages cost the same at any depth and nothing is ever counted.

A page is asked for with an opaque token holding the sort key of the last (or first) row of
the page before: ``WHERE (k1, k2, id) < (v1, v2, v3) ORDER BY k1 DESC, k2 DESC, id DESC LIMIT
n + 1``. The row-value comparison lets the database start the index scan right at the
boundary (PostgreSQL and SQLite both understand it), so page 20,000 costs what page 1 costs.
Every sort offered by the views has a matching index (see the models).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import QuerySet


@dataclass
class Page:
    rows: list
    next_token: str | None
    prev_token: str | None

    @property
    def has_other_pages(self) -> bool:
        return bool(self.next_token or self.prev_token)


def _encode(order: str, values: list) -> str:
    plain = [order, *(v.isoformat() if isinstance(v, datetime) else v for v in values)]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def _decode(token: str, order: str, fields: list) -> list | None:
    """The key values in ``token``; ``None`` when it is damaged or was made for another order
    (a sort header clicked on page 3 starts the new order at its first page)."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not isinstance(raw, list) or len(raw) != len(fields) + 1 or raw.pop(0) != order:
            return None
        values = []
        for field, value in zip(fields, raw, strict=True):
            kind = field.get_internal_type()
            if kind == "DateTimeField":
                values.append(
                    connection.ops.adapt_datetimefield_value(datetime.fromisoformat(value))
                )
            elif kind in ("CharField", "TextField"):
                if not isinstance(value, str):
                    return None
                values.append(value)
            else:
                values.append(int(value))
        return values
    except (ValueError, TypeError, json.JSONDecodeError):
        return None


def paginate(
    qs: QuerySet,
    keys: tuple[str, ...],
    *,
    descending: bool,
    after: str = "",
    before: str = "",
    oldest: bool = False,
    size: int = 50,
) -> Page:
    """One page of ``qs`` in ``keys`` order (the last key must be unique, e.g. ``id``).

    ``oldest`` asks for the last page: the same index scan from the other end, so the far end
    of a million rows costs what the first page costs."""
    model = qs.model
    fields = [model._meta.get_field(k) for k in keys]
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(f"{table}.{connection.ops.quote_name(f.column)}" for f in fields)
    backwards = (bool(before) or oldest) and not after
    token = before if backwards else after
    order = ("-" if descending else "") + ",".join(keys)
    values = _decode(token, order, fields) if token else None
    forward_op = "<" if descending else ">"
    if values is not None:
        op = forward_op if not backwards else (">" if descending else "<")
        marks = ", ".join(["%s"] * len(values))
        # columns come from the model's metadata; the values are parameters
        qs = qs.extra(where=[f"({columns}) {op} ({marks})"], params=values)  # noqa: S610
    reverse = descending != backwards
    qs = qs.order_by(*[f"-{k}" if reverse else k for k in keys])
    rows = list(qs[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()

    def key_of(row):
        return _encode(order, [getattr(row, f.attname) for f in fields])

    has_next = more if not backwards else values is not None
    has_prev = (values is not None) if not backwards else more
    return Page(
        rows=rows,
        next_token=key_of(rows[-1]) if rows and has_next else None,
        prev_token=key_of(rows[0]) if rows and has_prev else None,
    )
