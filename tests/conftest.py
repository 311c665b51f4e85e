"""Shared pytest fixtures. App-specific fixtures live beside their tests."""

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_ROOT.parent / "shared"


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """PBKDF2 on purpose costs ~0.3 s a hash; tests log in hundreds of times."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_auth_guards(monkeypatch):
    """Each test starts with no remembered auth failures (the guards outlive a test)."""
    import uuid

    from accounts import clients
    from bearsms_portal.bearsms import auth as client_module
    from bearsms_portal.bearsms.client import InMemoryAuthGuard

    monkeypatch.setattr(client_module, "DEFAULT_AUTH_GUARD", InMemoryAuthGuard())
    monkeypatch.setattr(clients.AUTH_GUARD, "namespace", uuid.uuid4().hex)


@pytest.fixture
def operator_user(django_user_model):
    """A portal operator (staff). Log in with ``client.force_login`` (axes needs a request)."""
    return django_user_model.objects.create_user(
        username="op", password="op-password-123", is_staff=True
    )


def _broker_label(url: str) -> str:
    return url.split("://", 1)[0] if "@" in url else url


def pytest_report_header(config):
    from django.conf import settings

    vendor = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    return [f"database vendor: {vendor}; broker: {_broker_label(settings.CELERY_BROKER_URL)}"]


def pytest_terminal_summary(terminalreporter):
    for line in pytest_report_header(None):
        terminalreporter.write_line(line)


# --- The built-in BearSMS sandbox (owned by the sandbox, issue 4) ---------------------------------
SANDBOX_PROFILES = ["documented", "playsms-1.4.8"]


def _sandbox(request, live_server, settings, profile):
    from bearsms_portal.sandbox.testing import start

    return start(live_server, settings, profile)


@pytest.fixture(params=SANDBOX_PROFILES, ids=SANDBOX_PROFILES)
def sandbox(request, live_server, settings):
    """A live BearSMS sandbox over real HTTP, once per profile ("documented", "playsms-1.4.8").

    Sets ``settings.SANDBOX_PROFILE`` and ``settings.BEARSMS_URL`` (the live server's
    ``/sandbox``) and seeds the main admin with ``settings.BEARSMS_ADMIN_USERNAME`` /
    ``settings.BEARSMS_ADMIN_TOKEN``. Returns a
    :class:`bearsms_portal.sandbox.testing.SandboxHandle`: ``.url``, ``.profile``,
    ``.admin_username``, ``.admin_token``, ``create_user(...) -> token``, ``add_outgoing``,
    ``inject_incoming``, ``tick``/``settle``, ``requests(op)``, ``set_fault(op, kind, rate)``
    and more (see its docstring). Uses ``live_server``, hence a transactional database.
    """
    return _sandbox(request, live_server, settings, request.param)


@pytest.fixture
def sandbox_documented(request, live_server, settings):
    """The ``sandbox`` fixture in the "documented" profile only."""
    return _sandbox(request, live_server, settings, "documented")


@pytest.fixture
def sandbox_playsms(request, live_server, settings):
    """The ``sandbox`` fixture in the "playsms-1.4.8" profile only (what the captures show)."""
    return _sandbox(request, live_server, settings, "playsms-1.4.8")
