"""Acceptance 2: the ``c``/``last`` trap iterators.

A small fake server (a ``requests`` transport adapter, so the client's whole request path
runs) implements the real ordering: rows with id > ``last`` whose time contains ``dt`` as a
substring, newest time first, ties in random order, cut to ``c`` (default 100); "no data"
as ERR 400 (``ds``) or 501 (``in``/``ix``/``sx``).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl

import pytest
import requests
from requests.adapters import BaseAdapter

from bearsms_portal.bearsms import Client, InMemoryAuthGuard

START = datetime(2026, 11, 28, 9, 0, 0)
OPS = ["ds", "in", "ix", "sx"]
ITERATOR = {
    "ds": "iter_delivery_status",
    "in": "iter_incoming",
    "ix": "iter_inbox",
    "sx": "iter_sandbox",
}


@dataclass
class Row:
    id: int
    dt: str


def stamp(seconds: float) -> str:
    return (START + timedelta(seconds=int(seconds))).strftime("%Y-%m-%d %H:%M:%S")


class FakeFeed(BaseAdapter):
    def __init__(self, op: str, rows: list[Row], seed: int = 7):
        super().__init__()
        self.op = op
        self.rows = list(rows)
        self.random = random.Random(seed)
        self.requests: list[dict[str, str]] = []
        self.sizes: list[int] = []
        self.on_request = None  # callable(feed) run before answering

    def next_id(self) -> int:
        return max((r.id for r in self.rows), default=0) + 1

    def select(self, params: dict[str, str]) -> list[Row]:
        last = int(params.get("last") or 0)
        c = int(params.get("c") or 0) or 100
        dt = params.get("dt") or None
        chosen = [r for r in self.rows if r.id > last and (dt is None or dt in r.dt)]
        self.random.shuffle(chosen)  # ties come back in no particular order
        chosen.sort(key=lambda r: r.dt, reverse=True)
        return chosen[:c]

    def body_for(self, rows: list[Row]) -> dict:
        if not rows:
            code = "400" if self.op == "ds" else "501"
            return {"status": "ERR", "error": code, "error_string": "no data", "timestamp": 1}
        data = []
        for r in rows:
            if self.op == "ds":
                data.append(
                    {
                        "smslog_id": r.id,
                        "src": "1234",
                        "dst": "628111",
                        "msg": "m",
                        "dt": r.dt,
                        "update": r.dt,
                        "status": 3,
                    }
                )
            elif self.op == "in":
                data.append(
                    {
                        "id": str(r.id),
                        "src": "+628",
                        "dst": "1234",
                        "kwd": "IDOL",
                        "msg": "m",
                        "dt": r.dt,
                        "status": "1",
                    }
                )  # PHP 7 strings
            else:
                data.append({"id": r.id, "src": "+628", "dst": "", "msg": "m", "dt": r.dt})
        return {"data": data, "error_string": None, "timestamp": 1}

    def send(self, request, **kwargs):
        params = dict(parse_qsl(request.body or "", keep_blank_values=True))
        assert request.url.endswith("/index.php?app=ws")
        assert params["op"] == self.op
        if self.on_request:
            self.on_request(self)
        self.requests.append(params)
        rows = self.select(params)
        self.sizes.append(len(rows))
        response = requests.Response()
        response.status_code = 200
        response.headers["Content-Type"] = "application/json"
        response._content = json.dumps(self.body_for(rows)).encode()
        response.request = request
        response.url = request.url
        return response

    def close(self):
        pass


def client_for(feed: FakeFeed, page_size: int) -> Client:
    session = requests.Session()
    session.mount("http://", feed)
    return Client(
        "http://fake",
        "admin",
        "t0ken",
        session=session,
        page_size=page_size,
        auth_guard=InMemoryAuthGuard(),
        backoff=0,
    )


def spread(count: int, seconds: int, seed: int = 1) -> list[Row]:
    rng = random.Random(seed)
    times = sorted(rng.uniform(0, seconds) for _ in range(count))
    return [Row(i + 1, stamp(t)) for i, t in enumerate(times)]


def read_all(feed: FakeFeed, after: int = 0, page_size: int = 50):
    client = client_for(feed, page_size)
    return [r.id for r in getattr(client, ITERATOR[feed.op])(after=after)]


@pytest.mark.parametrize("op", OPS)
def test_thousands_of_rows_each_once_in_ascending_order(op):
    feed = FakeFeed(op, spread(3000, 2 * 3600))
    ids = read_all(feed, page_size=50)
    assert ids == list(range(1, 3001))
    assert max(feed.sizes) <= 50
    assert all(int(p["c"]) <= 50 for p in feed.requests)
    assert len(feed.requests) < 800


def test_ten_times_the_page_size_within_a_few_seconds():
    feed = FakeFeed("ds", spread(500, 4))  # 500 rows, 5 distinct seconds, page 50
    ids = read_all(feed, page_size=50)
    assert ids == list(range(1, 501))


def test_ties_in_time_beyond_the_page_size():
    same_second = [Row(i, stamp(100)) for i in range(1, 301)]
    others = [Row(300 + i, stamp(100 + i)) for i in range(1, 201)]
    feed = FakeFeed("in", same_second + others)
    ids = read_all(feed, page_size=50)
    assert ids == list(range(1, 501))
    # only the one crowded second needed an answer larger than the page
    big = [p for p, size in zip(feed.requests, feed.sizes, strict=True) if size > 50]
    assert big and all(p.get("dt") == stamp(100) for p in big)


def test_after_skips_older_rows():
    feed = FakeFeed("ix", spread(2000, 3600))
    ids = read_all(feed, after=1234, page_size=40)
    assert ids == list(range(1235, 2001))
    assert all(p["last"] == "1234" for p in feed.requests)


def test_time_order_differs_from_id_order():
    """ds: scheduled messages keep early ids but are dispatched late."""
    rng = random.Random(3)
    seconds = list(range(1500))
    rng.shuffle(seconds)
    feed = FakeFeed("ds", [Row(i + 1, stamp(s * 3)) for i, s in enumerate(seconds)])
    assert read_all(feed, page_size=30) == list(range(1, 1501))


def test_rows_arriving_between_pages_are_never_lost_or_repeated():
    feed = FakeFeed("ds", spread(1000, 1800))
    clock = {"t": 1800}

    def traffic(feed):
        if len(feed.requests) < 150:  # new messages keep arriving during the scan
            for _ in range(3):
                clock["t"] += 1
                feed.rows.append(Row(feed.next_id(), stamp(clock["t"])))

    feed.on_request = traffic
    seen: list[int] = []
    cursor = 0
    for _ in range(20):
        batch = read_all(feed, after=cursor, page_size=40)
        assert batch == sorted(batch) and all(i > cursor for i in batch)
        seen += batch
        if not batch:
            break
        cursor = batch[-1]
    assert len(seen) == len(set(seen))
    assert seen == [r.id for r in sorted(feed.rows, key=lambda r: r.id)]
    assert len(seen) > 1000  # the traffic was picked up by later passes


def test_empty_feed_costs_one_request():
    feed = FakeFeed("sx", [])
    assert read_all(feed) == []
    assert len(feed.requests) == 1


def test_small_feed_costs_one_request():
    feed = FakeFeed("in", spread(30, 60))
    assert read_all(feed, page_size=50) == list(range(1, 31))
    assert len(feed.requests) == 1


def test_rows_spanning_years_and_days():
    rows = [
        Row(i + 1, (datetime(2019, 1, 1) + timedelta(hours=37 * i)).strftime("%Y-%m-%d %H:%M:%S"))
        for i in range(1200)
    ]
    feed = FakeFeed("ds", rows)
    assert read_all(feed, page_size=25) == list(range(1, 1201))
    assert max(feed.sizes) <= 25


@pytest.mark.slow
def test_large_backlog_keeps_every_answer_small():
    feed = FakeFeed("ds", spread(10000, 6 * 3600, seed=5))
    ids = read_all(feed, page_size=200)
    assert ids == list(range(1, 10001))
    assert max(feed.sizes) <= 200
    assert len(feed.requests) < 1500


def test_naive_last_paging_loses_rows():
    """Why the iterators exist: paging with last=max(seen) skips rows (cap 122/123)."""
    feed = FakeFeed("ds", spread(300, 600))
    client = client_for(feed, 50)
    seen, cursor = set(), 0
    while True:
        page = client.delivery_status(last=cursor or None, c=50)
        if not page:
            break
        seen |= {r.smslog_id for r in page}
        cursor = max(r.smslog_id for r in page)
    assert len(seen) < 300


def test_rows_without_a_usable_time_are_read_by_widening():
    feed = FakeFeed("sx", [Row(i, "") for i in range(1, 121)])
    assert read_all(feed, page_size=50) == list(range(1, 121))
    assert [int(p["c"]) for p in feed.requests] == [50, 100, 200]
