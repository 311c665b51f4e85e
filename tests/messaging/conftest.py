"""Fixtures of the messaging tests: linked accounts on the sandbox, portal users by role."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from accounts.models import BearSMSAccount, PortalProfile
from bearsms_portal.celery import app
from messaging import tasks  # noqa: F401 (registers the tasks for eager runs)
from messaging.models import Feed, SyncCursor


@pytest.fixture(autouse=True)
def _fast_sync(settings):
    settings.SYNC_PAGE_SIZE = 100
    settings.SYNC_BATCH_SIZE = 200
    settings.SYNC_LOCK_TTL = 10


@pytest.fixture
def eager():
    """Celery tasks run at once, in the test's thread (the one definition for the messaging
    tests: new tests use it rather than their own)."""
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def link_account(
    sandbox, username: str, *, level: int = 3, parent: BearSMSAccount | None = None, credit=0
) -> BearSMSAccount:
    """An account on the sandbox and its linked local record (as the accounts app makes it)."""
    token = sandbox.create_user(
        username, level=level, parent=parent.username if parent else None, credit=credit
    )
    account = BearSMSAccount(username=username, level=level, parent=parent)
    account.store_token(token)
    account.save()
    return account


def portal_user(username: str, *, role: str, account: BearSMSAccount | None = None):
    user = get_user_model().objects.create_user(
        username=username, password="pw-123456789", is_staff=role == "operator"
    )
    if role != "operator":
        PortalProfile.objects.create(user=user, role=role, account=account)
    return user


def cursor_of(account: BearSMSAccount | None, feed: str) -> SyncCursor:
    cursor, _ = SyncCursor.objects.select_related("account").get_or_create(
        account=account, feed=feed
    )
    return cursor


@pytest.fixture
def alice(sandbox):
    return link_account(sandbox, "alice")


@pytest.fixture
def ds_cursor(alice):
    return cursor_of(alice, Feed.OUTGOING)
