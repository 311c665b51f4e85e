"""Sandbox-only fixtures (the shared ``sandbox`` fixtures live in tests/conftest.py)."""

import pytest


@pytest.fixture
def inprocess_sandbox_playsms(db, settings):
    """The sandbox in the playsms-1.4.8 profile, reached through Django's test client (the whole
    middleware stack, no socket) inside the test's transaction: fast on PostgreSQL too."""
    from bearsms_portal.sandbox.testing import start_at

    return start_at("http://testserver/sandbox", settings, "playsms-1.4.8")
