"""Message lists sorted by time, id, sender, destination, status and account: keyset pages
that neither overlap nor skip a row, in the right order, at the same query count on every
page (the jump to the far end included); an unknown sort says so; the estimated total."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from messaging import sync, views
from messaging.models import IncomingMessage, OutgoingMessage, SandboxMessage, SyncCursor
from messaging.tables import SORTS

from .conftest import link_account, portal_user

pytestmark = pytest.mark.django_db(transaction=True)

PAGE = 4


@pytest.fixture
def world(live_sandbox_documented, monkeypatch):
    sandbox = live_sandbox_documented
    alice = link_account(sandbox, "alice")
    bob = link_account(sandbox, "bob")
    # ties on every sort column, so the tie-breaks are what keeps pages apart
    sandbox.add_outgoing("alice", 5, src="ALPHA", dst="628111000", status=3)
    sandbox.add_outgoing("alice", 4, src="BETA", dst="628222000", status=2)
    sandbox.add_outgoing("bob", 4, src="ALPHA", dst="628111000", status=1)
    sandbox.add_keyword("alice", "IDOL", scenarios={"A": "thanks"})
    sandbox.add_keyword("bob", "BOX", feature="inbox")  # a copy in bob's inbox (ix)
    for i in range(10):
        sender = ("+628999000111", "+628999000222", "+628999000333")[i % 3]
        recvnum = ("1234", "5678")[i % 2]
        sandbox.inject_incoming(sender, f"IDOL A hello {i}", recvnum=recvnum)
        sandbox.inject_incoming(sender, f"nobody's keyword {i}", recvnum=recvnum)
        sandbox.inject_incoming(sender, f"BOX note {i}", recvnum=recvnum)
    sync.ensure_cursors()
    for cursor in SyncCursor.objects.select_related("account"):
        sync.pull(cursor=cursor)
    monkeypatch.setattr(views, "PAGE_SIZE", PAGE)
    return {"op": portal_user("op", role="operator"), "alice": alice, "bob": bob}


FEEDS = [
    ("outgoing", OutgoingMessage.objects.all),
    ("incoming", lambda: IncomingMessage.objects.filter(feed="in")),
    ("inbox", lambda: IncomingMessage.objects.filter(feed="ix")),
    ("sandbox", SandboxMessage.objects.all),
]


def _expected(rows, keys, descending):
    def key(row):
        return tuple(getattr(row, row._meta.get_field(k).attname) for k in keys)

    return [row.pk for row in sorted(rows, key=key, reverse=descending)]


def _walk(client, url, params, direction):
    """Follow the pager from the page ``params`` asks for; pks in list order, queries a page."""
    pks, counts = [], []
    while True:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, params)
        assert response.status_code == 200
        counts.append(len(queries))
        page = response.context["page"]
        rows = [row.pk for row in page.rows]
        pks = pks + rows if direction == "after" else rows + pks
        token = page.next_token if direction == "after" else page.prev_token
        if not token:
            return pks, counts, response
        params = {key: value for key, value in params.items() if key != "oldest"}
        params[direction] = token
        params.pop("before" if direction == "after" else "after", None)


@pytest.mark.parametrize("slug,rows", FEEDS, ids=[slug for slug, _ in FEEDS])
def test_every_sort_pages_flat_without_overlap_or_gap(client, world, slug, rows):
    client.force_login(world["op"])
    url = reverse("messaging:list", args=[slug])
    all_rows = list(rows())
    assert len(all_rows) > 2 * PAGE
    feed = views.FEED_SLUGS[slug]
    for name, keys in SORTS[feed].items():
        for sort in (name, f"-{name}"):
            expected = _expected(all_rows, keys, sort.startswith("-"))
            forward, counts, _ = _walk(client, url, {"sort": sort}, "after")
            assert forward == expected, sort
            # the jump to the far end, then back page by page: the same rows, the same order
            backward, back_counts, _ = _walk(client, url, {"sort": sort, "oldest": 1}, "before")
            assert backward == expected, sort
            assert len(set(counts + back_counts)) == 1, (sort, counts, back_counts)


def test_the_oldest_page_is_one_jump_and_says_so(client, world):
    client.force_login(world["op"])
    url = reverse("messaging:list", args=["outgoing"])
    first = client.get(url)
    html = first.content.decode()
    assert "Oldest »" in html and "« Newest" not in html
    oldest = client.get(url, {"oldest": 1})
    oldest_pks = [r.pk for r in oldest.context["page"].rows]
    by_time = list(OutgoingMessage.objects.order_by("dispatched_at", "id").values_list("pk"))
    assert sorted(oldest_pks) == sorted(pk for (pk,) in by_time[: len(oldest_pks)])
    assert oldest.context["page"].next_token is None
    assert "« Newest" in oldest.content.decode()


def test_an_unknown_sort_says_so_and_shows_newest_first(client, world):
    client.force_login(world["op"])
    response = client.get(reverse("messaging:list", args=["incoming"]), {"sort": "-status"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "cannot be sorted by “status”" in html
    newest = max(IncomingMessage.objects.filter(feed="in"), key=lambda m: (m.received_at, m.pk))
    assert response.context["page"].rows[0].pk == newest.pk


def test_a_token_of_another_sort_starts_the_new_sort_at_its_first_page(client, world):
    client.force_login(world["op"])
    url = reverse("messaging:list", args=["outgoing"])
    by_dst = client.get(url, {"sort": "destination"}).context["page"]
    by_src = client.get(url, {"sort": "sender", "after": by_dst.next_token}).context["page"]
    first_by_src = client.get(url, {"sort": "sender"}).context["page"]
    assert [r.pk for r in by_src.rows] == [r.pk for r in first_by_src.rows]


def test_estimated_total(client, world):
    client.force_login(world["op"])
    url = reverse("messaging:list", args=["outgoing"])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {OutgoingMessage._meta.db_table}")
    # SQLite: the daily rows of the sync; PostgreSQL: the planner's estimate after ANALYZE
    response = client.get(url)
    total = OutgoingMessage.objects.count()
    assert total > PAGE
    assert response.context["total"] == total
    assert f"About {total} messages (an estimate)" in response.content.decode()
    # everything on one page: the exact figure
    one_page = client.get(url, {"account": world["bob"].pk})
    assert one_page.context["total"] == 4
    assert "4 messages" in one_page.content.decode()
    if connection.vendor != "postgresql":
        # a filter on SQLite: no cheap figure, so none is shown (never a COUNT)
        filtered = client.get(url, {"src": "ALPHA"})
        assert filtered.context["total"] is None
        assert 'id="message-total"' not in filtered.content.decode()
