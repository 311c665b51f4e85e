"""Transactions with a chosen durability.

:func:`unflushed` is for writes that may be lost in a database crash without harm: a commit
that does not wait for the disk (PostgreSQL ``synchronous_commit = off``; elsewhere a plain
transaction). The data is still written, in order, and consistent; only the last fraction of
a second before a crash can be missing. Each caller says why losing its write is harmless.
:func:`update_unflushed` and :func:`create_unflushed` make one such write in a single round
trip to PostgreSQL, for the paths that write once per request.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, connections, router, transaction
from django.db.models import Model, QuerySet
from django.db.models.sql import InsertQuery, UpdateQuery


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


def _in_one_query(using: str) -> bool:
    """Whether an unflushed write can go as one query: PostgreSQL, outside any transaction."""
    db = connections[using]
    return db.vendor == "postgresql" and not db.in_atomic_block


def _execute_unflushed(using: str, sql: str, params) -> None:
    # PostgreSQL runs the statements of one query as one implicit transaction: the SET LOCAL
    # holds until its commit, which then does not wait for the disk. One round trip instead of
    # four (BEGIN, SET LOCAL, the write, COMMIT), each of which a busy client waits for.
    with connections[using].cursor() as cursor:
        cursor.execute(f"{sql}; SET LOCAL synchronous_commit TO OFF", params)


def update_unflushed(queryset: QuerySet, **values) -> None:
    """``queryset.update(**values)`` committed as :func:`unflushed` commits: on PostgreSQL
    outside a transaction, in one round trip; inside one, a plain write (the outer commit keeps
    its own durability); elsewhere a plain write too."""
    if not _in_one_query(queryset.db):
        queryset.update(**values)
        return
    sql, params = update_statement(queryset, **values)
    if sql:
        _execute_unflushed(queryset.db, sql, params)


def update_statement(queryset: QuerySet, **values) -> tuple[str, tuple]:
    """The SQL and parameters of ``queryset.update(**values)``, not run: for a caller that
    sends it as part of a larger statement (``sql`` is empty when there is nothing to set)."""
    query = queryset.query.chain(UpdateQuery)
    query.add_update_values(values)
    return query.get_compiler(queryset.db).as_sql()


def create_unflushed(model: type[Model], **fields) -> None:
    """``model.objects.create(**fields)`` committed as :func:`unflushed` commits, without
    reading back the new row's id: on PostgreSQL outside a transaction, in one round trip;
    otherwise a plain write (see :func:`update_unflushed`)."""
    using = router.db_for_write(model)
    instance = model(**fields)
    if not _in_one_query(using):
        instance.save(using=using)
        return
    meta = model._meta
    columns = [f for f in meta.local_concrete_fields if f is not meta.auto_field]
    query = InsertQuery(model)
    query.insert_values(columns, [instance])
    for sql, params in query.get_compiler(using).as_sql():
        _execute_unflushed(using, sql, params)
