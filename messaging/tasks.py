"""Celery tasks of the sync, the exports and the sends: thin, take ids, safe to run twice.

Beat runs :func:`schedule_pulls` every ``SYNC_TICK`` seconds. It enqueues one :func:`pull_feed`
per cursor that :func:`messaging.sync.cursors_to_queue` finds due and neither queued nor
running — so a slow pull (a first sync of a million rows) never collects a queue of copies
behind it. :func:`pull_feed` itself returns at once if it finds the cursor's lease taken.
"""

from __future__ import annotations

from celery import shared_task

from . import sync
from .services import sending
from .services.bulk import recipient_file_check
from .services.exports import sweep_dead_exports, write_export


@shared_task(name="messaging.schedule_pulls", ignore_result=True)
def schedule_pulls() -> int:
    cursor_ids = sync.cursors_to_queue()
    for cursor_id in cursor_ids:
        pull_feed.delay(cursor_id)
    return len(cursor_ids)


@shared_task(name="messaging.pull", ignore_result=True)
def pull_feed(cursor_id: int) -> str:
    return sync.pull_queued(cursor_id)


@shared_task(name="messaging.export", ignore_result=True)
def run_export(export_id: int) -> None:
    write_export(export_id=export_id)


@shared_task(name="messaging.sweep_dead_exports", ignore_result=True)
def sweep_exports() -> int:
    return sweep_dead_exports()


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
