"""Shared pytest fixtures. App-specific fixtures live beside their tests."""

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_ROOT.parent / "shared"


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
