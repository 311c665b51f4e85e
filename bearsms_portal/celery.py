"""The Celery application: broker from REDIS_URL, or the filesystem transport under var/."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bearsms_portal.settings")

app = Celery("bearsms_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="portal.ping")
def ping(payload: str) -> dict:
    """A no-op round trip used by health checks and the real-worker test."""
    return {"echo": payload, "pid": os.getpid()}
