"""Transactions with a chosen durability.

:func:`unflushed` is for writes that may be lost in a database crash without harm: a commit
that does not wait for the disk (PostgreSQL ``synchronous_commit = off``; elsewhere a plain
transaction). The data is still written, in order, and consistent; only the last fraction of
a second before a crash can be missing. Each caller says why losing its write is harmless.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def unflushed() -> Iterator[None]:
    """A transaction whose commit does not wait for the disk (PostgreSQL). Inside an outer
    transaction it is a plain savepoint: the outer commit keeps its own durability."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield
