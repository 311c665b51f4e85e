"""The Celery application: broker from REDIS_URL, or the filesystem transport under var/."""

import logging
import os

from celery import Celery, Task, signals
from django.core.exceptions import ObjectDoesNotExist

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bearsms_portal.settings")
logger = logging.getLogger(__name__)


class PortalTask(Task):
    """Every task takes ids (design rule 3). A row gone since the task was queued — a message
    left in ``var/broker`` by a run on a database since deleted — leaves nothing to do: one
    line says so, instead of a traceback and a failed task."""

    def __call__(self, *args, **kwargs):
        try:
            return super().__call__(*args, **kwargs)
        except ObjectDoesNotExist as exc:
            logger.warning("%s%s skipped: %s", self.name, tuple(args), exc)
            return None


app = Celery("bearsms_portal", task_cls=PortalTask)
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
