"""The production profile (DEBUG=0) passes `check --deploy` with no warnings."""

import os
import subprocess
import sys

from cryptography.fernet import Fernet

from tests.conftest import REPO_ROOT


def _manage(*args, **env_overrides):
    dropped = {"SECRET_KEY", "FIELD_ENCRYPTION_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE", "SANDBOX_ENABLED"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env["DJANGO_SETTINGS_MODULE"] = "bearsms_portal.settings"  # production: not the test's
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k" * 10 + "Zq8#vL2@pN5!xR7$wT4%yU6^mB3&cD9*eF1(gH0)jK-=+_sA" + "x" * 10,
    "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    "ALLOWED_HOSTS": "portal.example.com",
    "BEARSMS_URL": "https://app.bearsms.com",
    "BEARSMS_ADMIN_TOKEN": "not-a-real-token",
}


def test_check_deploy_has_no_warnings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_requires_explicit_secrets():
    env = dict(PRODUCTION)
    env.pop("SECRET_KEY")
    result = _manage("check", **env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
