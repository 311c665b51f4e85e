"""Shared pytest fixtures. App-specific fixtures live beside their tests."""

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_ROOT.parent / "shared"


def require_captures(found: int, where: Path) -> None:
    """The capture replays need ``../shared/captures``. Without it they skip on a developer's
    machine but fail under CI (``CI=true``), where a missing folder would replay nothing."""
    if found:
        return
    message = f"no capture files in {where} (CI copies shared/ beside the clone)"
    if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


def pytest_configure(config):
    """The test run is one of the commands that need the embedded state (the SQLite test
    database's folder, the filesystem broker's folders, the generated secrets)."""
    from bearsms_portal import embedded

    embedded.prepare()


#: Markers of the long tests, longest kind first: :func:`pytest_collection_modifyitems` runs
#: them before the rest.
LONG_FIRST = ("slow", "journey", "browser")


def pytest_collection_modifyitems(config, items):
    """The long tests first, each group in its collection order; within a module, the tests
    that share its demo world together. With xdist's ``load`` scheduling and
    ``--maxschedchunk 1`` (``make test``), each worker holds one test beside the one it runs, so
    the long ones spread over the workers from the first second and the short ones fill the
    gaps, instead of a long test starting last and the others waiting for it."""

    from tests.shared_world import shared_key

    modules: dict[str, int] = {}

    def order(item) -> tuple[int, int, bool]:
        rank = next(
            (i for i, name in enumerate(LONG_FIRST) if item.get_closest_marker(name)),
            len(LONG_FIRST),
        )
        module = modules.setdefault(item.module.__name__, len(modules))
        # Within a module, the tests that share its demo world come together, so the world is
        # built once per profile, not again after each test that cannot share it.
        return rank, module, shared_key(item) is None

    # Stable: the collection order (and pytest's grouping by profile) is kept within each key.
    items[:] = sorted(items, key=order)


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """PBKDF2 on purpose costs ~0.3 s a hash; tests log in hundreds of times."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def fresh_auth_guards(monkeypatch) -> None:
    """No remembered auth failures, in the client's per-process guard and in the portal's
    shared-cache guard, until ``monkeypatch`` is undone."""
    import uuid

    from accounts import clients
    from bearsms_portal.bearsms import auth

    monkeypatch.setattr(auth, "DEFAULT_AUTH_GUARD", auth.InMemoryAuthGuard())
    monkeypatch.setattr(clients.AUTH_GUARD, "namespace", uuid.uuid4().hex)


@pytest.fixture(autouse=True)
def _fresh_auth_guards(monkeypatch):
    """The one auth-guard reset: each test starts with no remembered auth failures (both
    guards outlive a test, and every sandbox answers at the same address)."""
    fresh_auth_guards(monkeypatch)


def create_operator(user_model):
    """The portal operator of the ``operator_user`` fixture (also built by module-wide worlds)."""
    return user_model.objects.create_user(username="op", password="op-password-123", is_staff=True)


@pytest.fixture
def operator_user(request, django_user_model):
    """A portal operator (staff). Log in with ``client.force_login`` (axes needs a request).
    In a test sharing its module's world (tests/shared_world.py), the world's operator."""
    from tests.shared_world import SHARED

    if SHARED.serving == request.node.nodeid:
        return django_user_model.objects.get(pk=SHARED.built.pks["operator"])
    return create_operator(django_user_model)


@pytest.fixture(scope="session")
def shared_world(django_db_setup, django_db_blocker):
    """The module-wide demo worlds' switch (tests/shared_world.py), once the test database
    exists; the last open world is rolled back at the end of the session."""
    from tests.shared_world import SHARED

    SHARED.ready(django_db_blocker)
    yield SHARED
    SHARED.close()


def pytest_runtest_setup(item):
    """Before a test's fixtures: open or close the module-wide demo world it can share."""
    from tests.shared_world import SHARED

    SHARED.switch_for(item)


def _broker_label(url: str) -> str:
    return url.split("://", 1)[0] if "@" in url else url


def pytest_report_header(config):
    from django.conf import settings

    vendor = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    return [f"database vendor: {vendor}; broker: {_broker_label(settings.CELERY_BROKER_URL)}"]


def pytest_terminal_summary(terminalreporter):
    for line in pytest_report_header(None):
        terminalreporter.write_line(line)


# --- The built-in BearSMS sandbox (its harness: tests/sandbox/harness.py) -----------------------
SANDBOX_PROFILES = ["documented", "playsms-1.4.8"]


def _in_process(monkeypatch, settings, profile):
    from tests.sandbox.harness import start_in_process

    return start_in_process(monkeypatch, settings, profile)


def _live(live_server, settings, profile):
    from tests.sandbox.harness import start

    return start(live_server, settings, profile)


@pytest.fixture(scope="module", params=SANDBOX_PROFILES, ids=SANDBOX_PROFILES)
def sandbox_profile(request):
    """The profile of the ``sandbox`` fixture. Module-scoped, so pytest runs a module's tests
    profile by profile (all "documented", then all "playsms-1.4.8"): what lets a module build
    its demo world once per profile (tests/accounts/conftest.py)."""
    return request.param


@pytest.fixture
def sandbox(sandbox_profile, db, monkeypatch, settings):
    """A BearSMS sandbox, once per profile ("documented", "playsms-1.4.8"), served in-process.

    Sets ``settings.SANDBOX_PROFILE`` and ``settings.BEARSMS_URL`` (``http://testserver/sandbox``:
    the client's requests run through Django's test client in this thread, inside the test's
    transaction) and seeds the main admin with ``settings.BEARSMS_ADMIN_USERNAME`` /
    ``settings.BEARSMS_ADMIN_TOKEN``. Returns a :class:`tests.sandbox.harness.SandboxHandle`:
    ``.url``, ``.profile``, ``.admin_username``, ``.admin_token``, ``create_user(...) -> token``,
    ``add_outgoing``, ``inject_incoming``, ``tick``/``settle``, ``requests(op)``,
    ``set_fault(op, kind, rate)`` and more (see its docstring).

    Tests about the wire (timeouts, hangs, sockets) or that share the sandbox with another
    thread or process use ``live_sandbox*`` instead.
    """
    return _in_process(monkeypatch, settings, sandbox_profile)


@pytest.fixture
def sandbox_documented(db, monkeypatch, settings):
    """The ``sandbox`` fixture in the "documented" profile only."""
    return _in_process(monkeypatch, settings, "documented")


@pytest.fixture
def sandbox_playsms(db, monkeypatch, settings):
    """The ``sandbox`` fixture in the "playsms-1.4.8" profile only (what the captures show)."""
    return _in_process(monkeypatch, settings, "playsms-1.4.8")


@pytest.fixture(params=SANDBOX_PROFILES, ids=SANDBOX_PROFILES)
def live_sandbox(request, live_server, settings):
    """The sandbox over real HTTP on the live server (hence a transactional database)."""
    return _live(live_server, settings, request.param)


@pytest.fixture
def live_sandbox_documented(live_server, settings):
    return _live(live_server, settings, "documented")


@pytest.fixture
def live_sandbox_playsms(live_server, settings):
    return _live(live_server, settings, "playsms-1.4.8")
