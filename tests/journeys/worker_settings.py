"""Settings of the Celery worker and beat that the journeys start: the portal's own settings,
with every task on the session's own queue (several test sessions may share one broker)."""

import os

from tests.settings import *  # noqa: F403

CELERY_TASK_DEFAULT_QUEUE = os.environ["JOURNEY_QUEUE"]
