"""Celery task: the sandbox's daemon duties, run by beat every ``SANDBOX_TICK`` seconds."""

from dataclasses import asdict

from celery import shared_task
from django.conf import settings


@shared_task(name="sandbox.tick", ignore_result=True)
def tick() -> dict:
    """Dispatch due queues, deliver reports, route incoming SMS, recalculate credit."""
    if not settings.SANDBOX_ENABLED:
        return {}
    from .services import lifecycle

    return asdict(lifecycle.tick())
