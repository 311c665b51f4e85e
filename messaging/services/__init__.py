"""Writes of the messaging app, one business action per function (like ``accounts.services``).

Plain functions with keyword arguments, the acting user first: they check permission and
input, write the local rows, and queue the background work. Views, tasks and management
commands call them; reads go through :mod:`messaging.selectors`.

- :mod:`.exports` — start an export, write its file (the Celery task's body).
- :mod:`.pulls` — ask for a pull of a sync cursor now.
- :mod:`.bulk` — bulk sends from a file: upload, column mapping, the check of every row.

Services queue Celery tasks by name (:func:`enqueue`): ``messaging.tasks`` imports the
services, never the other way round.
"""

from __future__ import annotations

from celery import signature


def enqueue(task: str, *args) -> None:
    """Queue the Celery task registered as ``task`` with ``args``."""
    signature(task, args=args).delay()
