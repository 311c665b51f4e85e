"""One demo world per module and sandbox profile, for the ``world`` fixture
(tests/accounts/conftest.py), instead of one per test.

Building the world through the services costs most of a second, and hundreds of tests use it.
So, for a test that can share it, the world is built once in an outer transaction that stays
open while the module's tests of that profile run: pytest-django runs each (non-transactional)
test in a savepoint inside it, so each test sees the world exactly as built and leaves nothing
behind. The block is rolled back as soon as the next test cannot share it (another module,
another profile, a test without ``world``, a transactional test, which flushes the database)
and at the end of the session.

The switch runs in ``pytest_runtest_setup`` (tests/conftest.py), before the test's fixtures:
the outer block must be open before the test's own atomic block, and closed before a test that
must not see it. ``sandbox_profile`` is module-scoped, so a module's tests come profile by
profile and the world is built once per module and profile (per xdist worker).

A test shares the world when it uses ``world``, its database access is plain
``django_db`` (no transaction, reset_sequences, serialized_rollback, databases,
available_apps; no ``transactional_db`` or ``live_server``) and its sandbox is an in-process
one of a known profile. Any other test builds its own world, as before.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings as django_settings
from django.db import connection, transaction
from django.test import override_settings

#: The fixture names that give a test an in-process sandbox of one known profile.
_FIXED_PROFILES = {"sandbox_documented": "documented", "sandbox_playsms": "playsms-1.4.8"}
#: Fixtures after which a test's database is not a savepoint in a transaction.
_TRANSACTIONAL_FIXTURES = (
    "transactional_db",
    "live_server",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
)
_PLAIN_DJANGO_DB_KWARGS = ("transaction", "reset_sequences", "serialized_rollback")
_OTHER_DJANGO_DB_KWARGS = ("databases", "available_apps")


class _ModuleSettings:
    """``settings.NAME = value`` for the build, undone by ``close()`` (what pytest-django's
    ``settings`` fixture does for a test)."""

    def __init__(self):
        object.__setattr__(self, "_overrides", [])

    def __getattr__(self, name):
        return getattr(django_settings, name)

    def __setattr__(self, name, value):
        override = override_settings(**{name: value})
        override.enable()
        self._overrides.append(override)

    def close(self) -> None:
        for override in reversed(self._overrides):
            override.disable()
        self._overrides.clear()


@dataclass(frozen=True)
class Built:
    """The world built for ``key`` = (module node id, profile): the primary keys of its rows."""

    key: tuple[str, str]
    pks: dict[str, int]


def shared_key(item) -> tuple[str, str] | None:
    """(module node id, sandbox profile) when ``item`` can share its module's world, else None."""
    names = getattr(item, "fixturenames", ())
    if "world" not in names or any(name in names for name in _TRANSACTIONAL_FIXTURES):
        return None
    if any(name.startswith("live_sandbox") for name in names):
        return None
    marker = item.get_closest_marker("django_db")
    if marker is None or marker.args:
        return None
    if any(marker.kwargs.get(name) for name in _PLAIN_DJANGO_DB_KWARGS):
        return None
    if any(marker.kwargs.get(name) is not None for name in _OTHER_DJANGO_DB_KWARGS):
        return None
    profiles = {profile for name, profile in _FIXED_PROFILES.items() if name in names}
    if "sandbox_profile" in names:
        profiles.add(item.callspec.params["sandbox_profile"])
    if len(profiles) != 1:
        return None
    return item.module.__name__, profiles.pop()


class SharedWorld:
    """The open outer block and the world built in it (one per xdist worker)."""

    def __init__(self):
        self.blocker = None  # pytest-django's django_db_blocker, once the test database exists
        self.built: Built | None = None
        self.serving: str | None = None  # node id of the test being set up inside it
        self._atomic = None

    def ready(self, blocker) -> None:
        self.blocker = blocker

    def switch_for(self, item) -> None:
        """Before ``item``'s fixtures: have the block open with the world ``item`` can share,
        or closed."""
        key = shared_key(item) if self.blocker is not None else None
        if self.built is not None and self.built.key != key:
            self.close()
        if key is not None and self.built is None:
            self._open(key)
        self.serving = item.nodeid if key is not None else None

    def for_test(self, node, profile: str) -> dict[str, int] | None:
        """The world's primary keys when test ``node`` (with a sandbox in ``profile``) shares
        the module's world, else None."""
        if self.built is None or self.serving != node.nodeid:
            return None
        if self.built.key[1] != profile:
            raise AssertionError(f"the shared world is {self.built.key}, the test's {profile}")
        return self.built.pks

    def _open(self, key: tuple[str, str]) -> None:
        import pytest
        from django.contrib.auth import get_user_model

        from tests.accounts.conftest import build_world
        from tests.conftest import create_operator, fresh_auth_guards
        from tests.sandbox.harness import start_in_process

        user_model = get_user_model()
        with self.blocker.unblock():
            atomic = transaction.atomic()
            atomic.__enter__()
            settings = _ModuleSettings()
            try:
                with pytest.MonkeyPatch.context() as monkeypatch:
                    fresh_auth_guards(monkeypatch)
                    sandbox = start_in_process(monkeypatch, settings, key[1])
                    world = build_world(sandbox, create_operator(user_model), user_model)
            except BaseException:
                transaction.set_rollback(True)
                atomic.__exit__(None, None, None)
                raise
            finally:
                settings.close()
        self._atomic = atomic
        self.built = Built(key, world.pks())

    def close(self) -> None:
        if self._atomic is None:
            return
        with self.blocker.unblock():
            # Only the outer block is open between tests; anything else is a bug here.
            assert connection.atomic_blocks == [self._atomic], connection.atomic_blocks
            transaction.set_rollback(True)
            self._atomic.__exit__(None, None, None)
        self._atomic = self.built = self.serving = None


SHARED = SharedWorld()
