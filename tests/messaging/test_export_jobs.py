"""Background exports always finish (issue 14): started by a POST only, at most
EXPORTS_PER_USER under way per user, progress on a connection of its own, a job whose worker
died marked failed by beat's sweep and tried again from the list, the filter shown in words."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bearsms_portal.celery import app
from messaging.models import Export, Feed
from messaging.services import exports as export_service

from .test_views import sandbox_documented, world  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)

START = reverse("messaging:export", args=["outgoing", "csv"])


@pytest.fixture
def op(world):  # noqa: F811
    return world["users"]["op"]


def test_a_get_never_starts_an_export_a_post_with_csrf_does(op, settings, tmp_path, eager):
    settings.MEDIA_ROOT = tmp_path
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(op)
    page = browser.get(START, {"background": 1, "status": 3})
    assert page.status_code == 200 and not Export.objects.exists()
    html = page.content.decode()
    assert 'method="post"' in html and "Status: Delivered" in html
    assert browser.post(f"{START}?status=3").status_code == 403  # no CSRF token: refused
    assert not Export.objects.exists()
    token = browser.cookies["csrftoken"].value
    started = browser.post(f"{START}?status=3", {"csrfmiddlewaretoken": token})
    job = Export.objects.get()
    assert started.status_code == 302 and started.url.endswith(f"/exports/{job.pk}/")
    assert job.query == "status=3" and job.state == Export.State.DONE


def test_at_most_n_exports_under_way_per_user(op, settings, client, monkeypatch):
    settings.EXPORTS_PER_USER = 2
    queued = []  # the workers are busy: the tasks wait (and stay out of the shared broker)
    monkeypatch.setattr(export_service, "enqueue", lambda task, *args: queued.append(args))
    client.force_login(op)
    for _ in range(2):
        assert client.post(START).status_code == 302
    refused = client.post(START, follow=True)
    assert "already have 2 exports under way" in refused.content.decode()
    assert Export.objects.filter(user=op).count() == 2
    Export.objects.filter(user=op).update(state=Export.State.DONE)  # one finished: room again
    assert client.post(START).status_code == 302
    assert Export.objects.filter(user=op, state=Export.State.QUEUED).count() == 1
    assert len(queued) == 3


def test_progress_is_written_on_a_connection_of_its_own(op, settings, tmp_path, monkeypatch):
    """Each progress write goes through its own connection, committed at once (another
    connection sees it while the rows are still being read), never the reading one."""
    from messaging import exports

    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(exports, "CHUNK", 2)
    seen = []
    real_call = export_service._ProgressWriter.__call__

    def watched(self, done):
        real_call(self, done)
        assert self.connection is not connections["default"]
        observer = connections.create_connection("default")
        try:
            with observer.cursor() as cursor:
                cursor.execute(
                    "SELECT rows_done, heartbeat_at FROM messaging_export WHERE id = %s",
                    [self.export_id],
                )
                seen.append(cursor.fetchone())
        finally:
            observer.close()

    monkeypatch.setattr(export_service._ProgressWriter, "__call__", watched)
    job = Export.objects.create(user=op, feed=Feed.OUTGOING, format=Export.Format.CSV)
    export_service.write_export(export_id=job.pk)
    job.refresh_from_db()
    assert job.state == Export.State.DONE and job.rows_done == 9
    assert seen and all(row[0] > 0 and row[1] is not None for row in seen)


def test_a_job_whose_worker_died_is_failed_by_the_sweep_and_tried_again(
    op, client, settings, tmp_path, eager
):
    settings.MEDIA_ROOT = tmp_path
    long_ago = timezone.now() - timedelta(seconds=settings.EXPORT_STALE_AFTER + 60)
    dead = Export.objects.create(
        user=op,
        feed=Feed.OUTGOING,
        format=Export.Format.CSV,
        query="q=bob",
        state=Export.State.RUNNING,
        heartbeat_at=long_ago,
    )
    alive = Export.objects.create(
        user=op,
        feed=Feed.OUTGOING,
        format=Export.Format.CSV,
        state=Export.State.RUNNING,
        heartbeat_at=timezone.now(),
    )
    lost = Export.objects.create(user=op, feed=Feed.OUTGOING, format=Export.Format.CSV)
    Export.objects.filter(pk=lost.pk).update(
        created_at=timezone.now() - timedelta(seconds=settings.EXPORT_QUEUED_MAX + 60)
    )
    schedule = django_settings.CELERY_BEAT_SCHEDULE["messaging-export-sweep"]
    assert schedule["task"] in app.tasks
    app.tasks[schedule["task"]].apply()  # what beat runs
    states = dict(Export.objects.values_list("pk", "state"))
    assert states == {
        dead.pk: Export.State.FAILED,
        alive.pk: Export.State.RUNNING,
        lost.pk: Export.State.FAILED,
    }
    client.force_login(op)
    listing = client.get(reverse("messaging:exports")).content.decode()
    assert "worker stopped answering" in listing and "Try again" in listing
    assert "Text: bob" in listing  # the filter, in words
    Export.objects.filter(pk=alive.pk).update(state=Export.State.DONE)
    retried = client.post(reverse("messaging:export_retry", args=[dead.pk]))
    assert retried.status_code == 302
    dead.refresh_from_db()
    assert dead.state == Export.State.DONE and dead.rows_done == 4  # bob's rows
    assert client.get(reverse("messaging:export_retry", args=[dead.pk])).status_code == 405


def test_the_list_shows_each_filter_in_words(op, client, world):  # noqa: F811
    Export.objects.create(
        user=op,
        feed=Feed.OUTGOING,
        format=Export.Format.XLSX,
        query=f"status=3&account={world['bob'].pk}&q=hello&since=2026-11-01T10:00",
    )
    Export.objects.create(user=op, feed=Feed.INCOMING, format=Export.Format.CSV, query="")
    client.force_login(op)
    html = client.get(reverse("messaging:exports")).content.decode()
    for words in ("Status: Delivered", "Account: bob", "Text: hello", "From: <time"):
        assert words in html, words
    assert "no filter: every message you can see" in html


def test_two_starts_at_once_take_the_last_place_once(op, settings, monkeypatch):
    """Two POSTs at the same moment with one place left: one export starts, one is refused."""
    import threading

    from django.db import connection

    settings.EXPORTS_PER_USER = 1
    monkeypatch.setattr(export_service, "enqueue", lambda task, *args: None)
    barrier = threading.Barrier(2)
    answers = []

    def start():
        browser = Client()
        browser.force_login(op)
        try:
            barrier.wait()
            answers.append(browser.post(START, follow=True).content.decode())
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert Export.objects.filter(user=op).count() == 1
    assert sum("already have 1 export under way" in answer for answer in answers) == 1
