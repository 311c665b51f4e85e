"""The Celery application: broker from REDIS_URL, or the filesystem transport under var/."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bearsms_portal.settings")

app = Celery("bearsms_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.import_modules.connect
def _prepare_embedded(sender=None, **kwargs) -> None:
    """A worker or beat starting: the embedded run's folders (broker, results, schedule) and
    secrets exist before they are used. Web processes never send this signal."""
    from .embedded import prepare

    prepare()


@app.task(name="portal.ping")
def ping(payload: str) -> dict:
    """A no-op round trip used by health checks and the real-worker test."""
    return {"echo": payload, "pid": os.getpid()}
