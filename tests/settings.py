"""The settings of the test run: the portal's own, with the built-in sandbox installed.

``SANDBOX_ENABLED`` goes into the environment before the portal's settings read it, so the
worker and server processes that tests start (which inherit the environment and this module)
install the sandbox too. A test about the portal without its sandbox starts a process with
``DJANGO_SETTINGS_MODULE=bearsms_portal.settings`` and ``SANDBOX_ENABLED=0``.
"""

import os

os.environ["SANDBOX_ENABLED"] = "1"

from bearsms_portal.settings import *  # noqa: E402, F403

# Parallel test workers (pytest-xdist) each have their own database, so their ids overlap: keep
# their cache keys (auth guards, locks keyed by ids) apart too. Processes a test starts inherit
# PYTEST_XDIST_WORKER and share their worker's keys.
CACHES["default"]["KEY_PREFIX"] = f"bearsms-test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"  # noqa: F405
