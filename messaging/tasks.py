"""Celery tasks of the sync and the exports: thin, take ids, safe to run twice.

Beat runs :func:`schedule_pulls` every ``SYNC_TICK`` seconds. It enqueues one
:func:`pull_feed` per cursor that is due (``next_pull_at`` passed: the interval after a success,
the exponential backoff after an error), unless one is already queued or running for that
cursor — so a slow pull (a first sync of a million rows) never collects a queue of copies
behind it. :func:`pull_feed` itself returns at once if it finds the cursor's lock taken.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.cache import cache
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from . import sync
from .locks import lock_for_cursor
from .models import SyncCursor
from .services import sending
from .services.bulk import recipient_file_check
from .services.exports import write_export

logger = logging.getLogger(__name__)


def _queued_key(cursor_id: int) -> str:
    return f"messaging:queued:{connection.settings_dict['NAME']}:{cursor_id}"


@shared_task(name="messaging.schedule_pulls", ignore_result=True)
def schedule_pulls() -> int:
    from django.conf import settings

    sync.ensure_cursors()
    now = timezone.now()
    due = SyncCursor.objects.filter(
        Q(next_pull_at__isnull=True) | Q(next_pull_at__lte=now),
        Q(account__isnull=True) | Q(account__in=sync.syncable_accounts()),
    ).values_list("pk", flat=True)
    enqueued = 0
    for cursor_id in due:
        if lock_for_cursor(cursor_id).is_locked():
            continue  # running now; it sets its own next_pull_at when it ends
        if cache.add(_queued_key(cursor_id), 1, timeout=max(60, settings.SYNC_LOCK_TTL)):
            pull_feed.delay(cursor_id)
            enqueued += 1
    return enqueued


@shared_task(name="messaging.pull", ignore_result=True)
def pull_feed(cursor_id: int) -> str:
    cache.delete(_queued_key(cursor_id))
    cursor = SyncCursor.objects.select_related("account").filter(pk=cursor_id).first()
    if cursor is None:
        return "gone"
    try:
        result = sync.pull(cursor=cursor)
    except Exception:  # recorded on the cursor (health) with its backoff; nothing to retry here
        logger.info("pull of %s failed; see the sync health page", cursor, exc_info=True)
        return "failed"
    return str(result)


@shared_task(name="messaging.export", ignore_result=True)
def run_export(export_id: int) -> None:
    write_export(export_id=export_id)


@shared_task(name="messaging.submit_send", ignore_result=True)
def submit_send(send_id: int) -> str:
    return sending.submit_send(send_id=send_id)


@shared_task(name="messaging.resolve_unknown", ignore_result=True)
def resolve_unknown(destination_id: int) -> str:
    return sending.resolve_unknown(destination_id=destination_id)


@shared_task(name="messaging.send_watchdog", ignore_result=True)
def send_watchdog() -> dict:
    return sending.watchdog()


@shared_task(name="messaging.check_recipient_file", ignore_result=True)
def check_recipient_file(file_id: int) -> None:
    recipient_file_check(file_id=file_id)
