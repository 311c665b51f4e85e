"""Fixtures for the BearSMS client tests (no database needed)."""

import pytest

from bearsms_portal.bearsms import Client, InMemoryAuthGuard

from .support import ReplayServer

TOKEN = "5f2b9c1d7e8a4b6c9d0e1f2a3b4c5d6e"


@pytest.fixture
def server():
    replay = ReplayServer().start()
    yield replay
    replay.stop()


@pytest.fixture
def make_client(server):
    """Build clients against the local server with a private fail-fast guard and no backoff."""
    guard = InMemoryAuthGuard()
    clients = []

    def build(username="alice", token=TOKEN, **options):
        options.setdefault("auth_guard", guard)
        options.setdefault("backoff", 0)
        options.setdefault("timeout", 5)
        client = Client(server.base_url, username, token, **options)
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()
