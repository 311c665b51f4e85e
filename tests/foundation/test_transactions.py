"""Writes that do not wait for the disk (``bearsms_portal.transactions``)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bearsms_portal.sandbox.models import RequestLog
from bearsms_portal.transactions import create_unflushed, update_unflushed


@pytest.mark.django_db(transaction=True)
def test_an_unflushed_write_outside_a_transaction_is_one_query():
    with CaptureQueriesContext(connection) as created:
        create_unflushed(RequestLog, op="pv", method="POST", params={"u": "x"}, duration_ms=1.5)
    entry = RequestLog.objects.get()
    assert (entry.op, entry.params, entry.duration_ms) == ("pv", {"u": "x"}, 1.5)
    assert entry.created is not None  # auto_now_add, as create() sets it
    with CaptureQueriesContext(connection) as updated:
        update_unflushed(RequestLog.objects.filter(pk=entry.pk), result="0", http_status=500)
    assert RequestLog.objects.values_list("result", "http_status").get() == ("0", 500)
    if connection.vendor == "postgresql":
        assert len(created) == len(updated) == 1
        assert created[0]["sql"].endswith("; SET LOCAL synchronous_commit TO OFF")
        with connection.cursor() as cursor:  # it held for that query's own transaction only
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"


@pytest.mark.django_db
def test_inside_a_transaction_an_unflushed_write_is_a_plain_one():
    with CaptureQueriesContext(connection) as queries:
        create_unflushed(RequestLog, op="cr", method="GET")
        update_unflushed(RequestLog.objects.filter(op="cr"), result="0")
    assert RequestLog.objects.values_list("op", "result").get() == ("cr", "0")
    assert not any("synchronous_commit" in q["sql"] for q in queries)
