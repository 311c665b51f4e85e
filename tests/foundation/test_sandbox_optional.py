"""The built-in sandbox exists only where it is used: with SANDBOX_ENABLED=0 the portal
creates none of its tables, its models are not in the Django admin and /sandbox/ is not served.
Each case migrates a fresh SQLite database in a subprocess (settings are read at start-up)."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

PROBE = """
import json
import django
from django.core.management import call_command

django.setup()
call_command("migrate", verbosity=0, interactive=False)
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.test import Client

print(json.dumps({
    "tables": connection.introspection.table_names(),
    "admin_apps": sorted({model._meta.app_label for model in admin.site._registry}),
    "installed": apps.is_installed("bearsms_portal.sandbox"),
    "sandbox_status": Client().get("/sandbox/index.php?app=ws").status_code,
}))
"""


def _probe(tmp_path, enabled: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "TEST_DATABASE_NAME"}}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "bearsms_portal.settings",
            "SANDBOX_ENABLED": enabled,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
            "VAR_DIR": str(tmp_path),
            "LOG_LEVEL": "WARNING",
        }
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("enabled", ["0", "1"])
def test_sandbox_tables_admin_and_urls_only_when_enabled(tmp_path, enabled):
    seen = _probe(tmp_path, enabled)
    sandbox_tables = [t for t in seen["tables"] if t.startswith("sandbox_")]
    assert "accounts_bearsmsaccount" in seen["tables"]  # the portal itself migrated
    if enabled == "1":
        assert seen["installed"] and "sandbox_sandboxuser" in sandbox_tables
        assert "sandbox" in seen["admin_apps"]
        assert seen["sandbox_status"] == 200
    else:
        assert not seen["installed"] and sandbox_tables == []
        assert "sandbox" not in seen["admin_apps"] and "accounts" in seen["admin_apps"]
        assert seen["sandbox_status"] == 404


def test_importing_the_settings_creates_no_file(tmp_path):
    """Settings only read VAR_DIR; `migrate` (and the worker, beat, make run) create it."""
    var_dir = tmp_path / "var"
    env = {
        **os.environ,
        "VAR_DIR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "bearsms_portal.settings",
    }
    dropped = (
        "SECRET_KEY",
        "FIELD_ENCRYPTION_KEY",
        "BEARSMS_ADMIN_TOKEN",
        "BEARSMS_URL",
        "REDIS_URL",
    )
    for name in dropped:
        env.pop(name, None)
    code = "from django.conf import settings; print(len(settings.SECRET_KEY))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) > 40 and not var_dir.exists()
    env["DATABASE_URL"] = f"sqlite:///{var_dir / 'portal.sqlite3'}"
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    for name in ("secret_key", "field_encryption_key", "bearsms_admin_token", "broker/queue"):
        assert (var_dir / name).exists(), name
    assert oct((var_dir / "secret_key").stat().st_mode & 0o777) == "0o600"
