"""Sandbox-only fixtures.

In this directory ``sandbox`` / ``sandbox_playsms`` / ``sandbox_documented`` are the in-process
variants: requests go through Django's test client (the whole middleware stack and view, no
socket) inside the test's transaction, which keeps ~300 tests fast on PostgreSQL. Tests about
the wire itself (transport, cookies, faults, timeouts) use the ``live_sandbox*`` fixtures — the
shared live-server ones from tests/conftest.py.
"""

import pytest

from bearsms_portal.sandbox.testing import start, start_at

PROFILES = ["documented", "playsms-1.4.8"]
IN_PROCESS_URL = "http://testserver/sandbox"


@pytest.fixture(params=PROFILES, ids=PROFILES)
def sandbox(request, db, settings):
    return start_at(IN_PROCESS_URL, settings, request.param)


@pytest.fixture
def sandbox_playsms(db, settings):
    return start_at(IN_PROCESS_URL, settings, "playsms-1.4.8")


@pytest.fixture
def sandbox_documented(db, settings):
    return start_at(IN_PROCESS_URL, settings, "documented")


@pytest.fixture
def inprocess_sandbox_playsms(sandbox_playsms):
    return sandbox_playsms


@pytest.fixture(params=PROFILES, ids=PROFILES)
def live_sandbox(request, live_server, settings):
    return start(live_server, settings, request.param)


@pytest.fixture
def live_sandbox_playsms(live_server, settings):
    return start(live_server, settings, "playsms-1.4.8")
