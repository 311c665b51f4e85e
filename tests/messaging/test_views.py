"""Pages: scoping (another reseller sees nothing and gets 404 on every id), escaping, exports,
keyset pages, the dashboard and the health page."""

from __future__ import annotations

import contextlib
import csv
import io

import pytest
from django.urls import reverse

from messaging import sync
from messaging.models import (
    Export,
    Feed,
    IncomingMessage,
    OutgoingMessage,
    SandboxMessage,
    SyncCursor,
)

from .conftest import link_account, portal_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sandbox_documented(live_sandbox_documented):
    """The sync fetches in a thread of its own: the sandbox answers over real HTTP."""
    return live_sandbox_documented


EVIL = "<script>alert('x')</script> & <b>bold</b>"


@pytest.fixture
def world(sandbox_documented):
    sandbox = sandbox_documented
    alice = link_account(sandbox, "alice")
    alice_sub = link_account(sandbox, "alicesub", level=4, parent=alice)
    bob = link_account(sandbox, "bob")
    sandbox.add_outgoing("alice", 3, msg=EVIL + " {i}")
    sandbox.add_outgoing("alicesub", 2, msg="sub {i}")
    sandbox.add_outgoing("bob", 4, msg="bob {i}")
    sandbox.add_keyword("alice", "IDOL", scenarios={"A": "thanks"})
    sandbox.inject_incoming("+628999000111", "IDOL A hello alice")
    sandbox.inject_incoming("+628999000222", "unhandled for the sandbox feed")
    sync.ensure_cursors()
    for cursor in SyncCursor.objects.select_related("account"):
        sync.pull(cursor=cursor)
    users = {
        "op": portal_user("op", role="operator"),
        "alice": portal_user("alice-user", role="reseller", account=alice),
        "bob": portal_user("bob-user", role="reseller", account=bob),
    }
    return {"alice": alice, "sub": alice_sub, "bob": bob, "users": users}


def _get(client, user, url, **params):
    client.force_login(user)
    return client.get(url, params)


def test_another_reseller_gets_404_on_every_id_and_sees_no_rows(client, world):
    bob = world["users"]["bob"]
    alice_user = world["users"]["alice"]
    alice_rows = {
        Feed.OUTGOING: OutgoingMessage.objects.filter(account__username__in=["alice", "alicesub"]),
        Feed.INCOMING: IncomingMessage.objects.filter(account__username="alice"),
    }
    assert alice_rows[Feed.OUTGOING].count() == 5 and alice_rows[Feed.INCOMING].count() == 1
    for feed, rows in alice_rows.items():
        for row in rows:
            url = reverse("messaging:detail", args=[feed, row.pk])
            assert _get(client, bob, url).status_code == 404
            assert _get(client, alice_user, url).status_code == 200
    for row in SandboxMessage.objects.all():  # sandbox feed: operators only
        url = reverse("messaging:detail", args=[Feed.SANDBOX, row.pk])
        assert _get(client, bob, url).status_code == 404
        assert _get(client, world["users"]["op"], url).status_code == 200
    # lists and exports show none of alice's rows
    for slug in ("outgoing", "incoming", "inbox"):
        page = _get(client, bob, reverse("messaging:list", args=[slug])).content.decode()
        assert "alice" not in page and "sub 0" not in page
        for fmt in ("csv", "xlsx"):
            response = _get(client, bob, reverse("messaging:export", args=[slug, fmt]))
            assert response.status_code == 200
            body = b"".join(response.streaming_content)
            if fmt == "csv":
                assert b"alice" not in body
    csv_rows = list(
        csv.reader(
            io.StringIO(
                b"".join(
                    _get(
                        client,
                        bob,
                        reverse("messaging:export", args=["outgoing", "csv"]),
                    ).streaming_content
                ).decode("utf-8-sig")
            )
        )
    )
    assert {r[1] for r in csv_rows[1:]} == {"bob"} and len(csv_rows) == 5
    assert _get(client, bob, reverse("messaging:list", args=["sandbox"])).status_code == 404
    assert (
        _get(client, bob, reverse("messaging:export", args=["sandbox", "csv"])).status_code == 404
    )
    # filtering by another reseller's account is refused, not obeyed
    response = _get(
        client, bob, reverse("messaging:list", args=["outgoing"]), account=world["alice"].pk
    )
    assert "alice" not in response.content.decode()
    # exports and sync cursors by id
    job = Export.objects.create(user=alice_user, feed=Feed.OUTGOING, format="csv")
    for name in ("messaging:export_detail", "messaging:export_download"):
        assert _get(client, bob, reverse(name, args=[job.pk])).status_code == 404
    cursor = SyncCursor.objects.filter(account=world["alice"]).first()
    client.force_login(bob)
    assert client.post(reverse("messaging:sync_now", args=[cursor.pk])).status_code == 404
    assert _get(client, bob, reverse("messaging:sync_health")).status_code == 403


def test_reseller_sees_own_and_subaccount_rows(client, world):
    page = _get(client, world["users"]["alice"], reverse("messaging:list", args=["outgoing"]))
    text = page.content.decode()
    assert "alicesub" in text and "sub 1" in text and "bob 0" not in text


def test_the_table_alone_for_the_live_refresh_same_scope_same_filter(client, world):
    """The list's script asks the same URL for the table only: scoped and filtered like the
    page, without the page around it (and caches keep the two apart)."""
    url = reverse("messaging:list", args=["outgoing"])
    client.force_login(world["users"]["alice"])
    whole = client.get(url, {"dst": ""})
    assert 'id="live-table"' in whole.content.decode() and "live-table.js" in whole.content.decode()
    table = client.get(url, {"sort": "status"}, headers={"X-Table-Only": "1"})
    html = table.content.decode()
    assert table.status_code == 200 and "X-Table-Only" in table["Vary"]
    assert html.lstrip().startswith('<div class="table-responsive">') and "<html" not in html
    assert "alicesub" in html and "sub 1" in html and "bob 0" not in html
    assert "sort=-status" in html  # the header's sort links keep the page's query


def test_message_text_is_escaped(client, world):
    op = world["users"]["op"]
    row = OutgoingMessage.objects.filter(account=world["alice"]).first()
    assert row.text.startswith(EVIL)  # stored exactly as the server gave it
    for url in (
        reverse("messaging:list", args=["outgoing"]),
        reverse("messaging:detail", args=[Feed.OUTGOING, row.pk]),
    ):
        html = _get(client, op, url).content.decode()
        assert "<script>alert" not in html and "<b>bold</b>" not in html
        assert (
            "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"
            in html
        )


def test_list_filters_sort_and_keyset_pages(client, world, settings, django_assert_max_num_queries):
    op = world["users"]["op"]
    client.force_login(op)
    url = reverse("messaging:list", args=["outgoing"])
    # pages of 4 rows (?per_page=, bounded by bearsms_portal.paging)
    seen = []
    params = {"per_page": 4}
    for _ in range(5):
        with django_assert_max_num_queries(9):  # 8 + the estimate (EXPLAIN, PostgreSQL)
            response = client.get(url, params)
        seen += [m.pk for m in response.context["page"].rows]
        nxt = response.context["page"].next_token
        if not nxt:
            break
        assert len(response.context["page"].rows) == 4
        params = {"per_page": 4, "after": nxt}
    assert sorted(seen) == sorted(OutgoingMessage.objects.values_list("pk", flat=True))
    assert len(seen) == len(set(seen))
    back = client.get(url, {"before": response.context["page"].prev_token})
    assert back.context["page"].rows
    for query in (
        {"status": 3},
        {"period": "24h"},
        {"account": world["bob"].pk},
        {"sort": "status"},
        {"sort": "-account"},
        {"q": "bob"},
        {"dst": "1"},
        {"since": "2000-01-01T00:00", "until": "2100-01-01T00:00"},
    ):
        response = client.get(url, query)
        assert response.status_code == 200, query
    bob_only = client.get(url, {"account": world["bob"].pk}).context["page"].rows
    assert {m.account.username for m in bob_only} == {"bob"}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_background_export_reports_progress_and_downloads(
    client, world, settings, tmp_path, monkeypatch, fmt
):
    from bearsms_portal.celery import app
    from messaging import exports

    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(exports, "CHUNK", 2)  # progress updates while the file is written
    app.conf.task_always_eager = True
    try:
        op = world["users"]["op"]
        client.force_login(op)
        url = reverse("messaging:export", args=["outgoing", fmt])
        assert client.get(url, {"background": 1}).status_code == 200  # a GET starts nothing
        assert not Export.objects.exists()
        response = client.post(url)
        assert response.status_code == 302
        job = Export.objects.get()
        assert job.state == Export.State.DONE and job.rows_done == 9
        page = client.get(response.url)
        assert b"Download" in page.content and b"100%" in page.content
        download = client.get(reverse("messaging:export_download", args=[job.pk]))
        assert download.status_code == 200
        body = b"".join(download.streaming_content)
        if fmt == "xlsx":
            import datetime
            import io

            import openpyxl

            assert body[:2] == b"PK"
            sheet = openpyxl.load_workbook(io.BytesIO(body), read_only=True).active
            cells = list(sheet.iter_rows(values_only=True))
            assert len(cells) == 10 and cells[0][0] == "Id"
            assert isinstance(cells[1][2], datetime.datetime)  # a real, sortable date
        else:
            assert body.decode("utf-8-sig").count("\n") == 10
    finally:
        app.conf.task_always_eager = False


def test_dashboard_and_health(client, world):
    op = world["users"]["op"]
    home = _get(client, op, reverse("home"))
    assert home.status_code == 200
    ctx = home.context
    assert ctx["total"].month.sent == 9
    assert ctx["total"].month.incoming >= 1
    assert any(g.label.startswith("alice") for g in ctx["groups"])
    assert b"<svg" in home.content
    alice_home = _get(client, world["users"]["alice"], reverse("home"))
    assert alice_home.context["total"].month.sent == 5
    health = _get(client, op, reverse("messaging:sync_health"))
    assert health.status_code == 200 and b"alice" in health.content
    status = client.get(reverse("healthz")).json()
    assert status["checks"]["sync"]["cursors"] == SyncCursor.objects.count()
    assert status["checks"]["sync"]["failing"] == []


def test_csv_export_neutralises_formulas_and_keeps_text(client, world, sandbox_documented):
    sandbox_documented.add_outgoing("bob", 1, msg="=HYPERLINK(1) {i}")
    sync.pull(
        cursor=SyncCursor.objects.select_related("account").get(
            account=world["bob"], feed=Feed.OUTGOING
        )
    )
    response = _get(
        client,
        world["users"]["bob"],
        reverse("messaging:export", args=["outgoing", "csv"]),
        q="HYPERLINK",
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][0] == "Id" and len(rows) == 2
    assert rows[1][-1] == "'=HYPERLINK(1) 0"
    assert rows[1][5] == "Delivered" and rows[1][1] == "bob"


def test_a_csv_export_that_fails_midway_ends_with_an_error_line(client, world, monkeypatch):
    """The database fails after the first rows were streamed: the file ends with an error
    line saying it is incomplete."""
    from django.db import OperationalError

    from messaging import exports

    real_stream, real_chunks = exports.csv_stream, exports._chunks
    monkeypatch.setattr(exports, "_chunks", lambda rows: real_chunks(rows, size=1))

    def failing(feed, rows, progress=None):
        with contextlib.closing(real_stream(feed, rows, progress)) as stream:
            for number, chunk in enumerate(stream):
                if number == 3:
                    raise OperationalError("server closed the connection unexpectedly")
                yield chunk

    monkeypatch.setattr(exports, "csv_stream", failing)
    response = _get(
        client, world["users"]["op"], reverse("messaging:export", args=["outgoing", "csv"])
    )
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "Id" and 1 < len(rows) < 1 + 9
    assert (
        rows[-1][0].startswith("ERROR: this export stopped") and "OperationalError" in rows[-1][0]
    )
    assert "server closed" not in text


def test_healthz_lists_a_failing_feed_but_stays_up(client, world):
    client.force_login(world["users"]["op"])  # details are for operators
    from datetime import timedelta

    from django.utils import timezone

    cursor = SyncCursor.objects.get(account=world["bob"], feed=Feed.OUTGOING)
    SyncCursor.objects.filter(pk=cursor.pk).update(error_count=3, last_error="AuthenticationFailed")
    check = client.get(reverse("healthz")).json()["checks"]["sync"]
    assert check["ok"] and check["failing"] == ["bob/ds"]
    assert "AuthenticationFailed" not in str(check)
    old = timezone.now() - timedelta(hours=2)
    SyncCursor.objects.update(last_success_at=old)
    check = client.get(reverse("healthz")).json()["checks"]["sync"]
    assert not check["ok"] and check["max_lag_s"] >= 7200


def test_big_exports_go_to_the_background(client, world, settings, tmp_path):
    from bearsms_portal.celery import app

    settings.MEDIA_ROOT = tmp_path
    settings.EXPORT_INLINE_MAX_XLSX_ROWS = 5
    app.conf.task_always_eager = True
    try:
        client.force_login(world["users"]["op"])
        xlsx = client.get(reverse("messaging:export", args=["outgoing", "xlsx"]))
        assert xlsx.status_code == 200 and b"too big to download at once" in xlsx.content
        assert not Export.objects.exists()  # started by the page's POST only
        csv_inline = client.get(reverse("messaging:export", args=["outgoing", "csv"]))
        assert csv_inline.status_code == 200 and csv_inline.streaming
    finally:
        app.conf.task_always_eager = False


def test_exports_are_in_the_users_zone_and_say_so(client, world, settings, tmp_path):
    """CSV inline, CSV/XLSX in the background (a Celery task: no request, so no middleware)
    and the audit CSV: times in the user's zone, named in the header."""
    from datetime import timedelta

    from openpyxl import load_workbook

    from accounts.models import PortalProfile
    from messaging.services.exports import start_export, write_export

    settings.MEDIA_ROOT = tmp_path
    bob = world["users"]["bob"]
    PortalProfile.objects.filter(user=bob).update(time_zone="Asia/Jakarta")
    row = OutgoingMessage.objects.filter(account=world["bob"]).order_by("-dispatched_at").first()
    jakarta = (row.dispatched_at + timedelta(hours=7)).strftime("%Y-%m-%d %H:%M:%S")
    header = "Time in Asia/Jakarta (UTC+07:00)"

    response = _get(client, bob, reverse("messaging:export", args=["outgoing", "csv"]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][2] == header and rows[1][2] == jakarta

    for fmt in ("csv", "xlsx"):
        job = start_export(actor=bob, feed=Feed.OUTGOING, fmt=fmt, query="")
        write_export(export_id=job.pk)
        path = tmp_path / "exports" / Export.objects.get(pk=job.pk).file_name
        if fmt == "csv":
            rows = list(csv.reader(io.StringIO(path.read_text("utf-8-sig"))))
            assert rows[0][2] == header and rows[1][2] == jakarta
        else:
            sheet = load_workbook(path, read_only=True).active
            cells = list(sheet.iter_rows(max_row=2, values_only=True))
            assert cells[0][2] == header
            assert cells[1][2].strftime("%Y-%m-%d %H:%M:%S") == jakarta

    audit = _get(client, world["users"]["op"], reverse("accounts:audit_export"))
    first = b"".join(audit.streaming_content).decode("utf-8-sig").splitlines()[0]
    assert first.startswith(f"created_at ({settings.TIME_ZONE})")
