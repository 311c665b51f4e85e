"""The embedded run's files under ``VAR_DIR``: its folders and the secrets generated for it.

Importing the settings creates nothing: with no ``SECRET_KEY`` (or ``FIELD_ENCRYPTION_KEY``, or,
on the built-in sandbox, ``BEARSMS_ADMIN_TOKEN``) in the environment, the settings read the one
kept in ``VAR_DIR`` or, the first time, generate one in memory. The commands that need the
embedded state call :func:`prepare`, which creates the folders (SQLite database, filesystem
broker, task results, static files) and saves the generated secrets so every later process
reads the same ones: ``manage.py migrate`` (hence ``make run``), ``runsandbox``, the Celery
worker and beat, and the test run.
"""

from __future__ import annotations

import secrets
from pathlib import Path

#: Folders the embedded run writes into (relative to ``VAR_DIR``), and those of the Celery
#: filesystem transport and file result backend (only when no ``REDIS_URL`` is configured).
FOLDERS = ("static",)
BROKER_FOLDERS = ("broker/queue", "broker/processed", "broker/control", "celery-results")


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


#: The secrets the embedded run may generate, and how.
GENERATORS = {
    "SECRET_KEY": lambda: secrets.token_urlsafe(64),
    "FIELD_ENCRYPTION_KEY": _fernet_key,
    "BEARSMS_ADMIN_TOKEN": lambda: secrets.token_hex(16),
}


def secret_path(var_dir: Path, name: str) -> Path:
    return var_dir / name.lower()


def read_or_generate(var_dir: Path, name: str, generated: dict[str, str]) -> str:
    """The secret kept in ``var_dir``, else a new one, remembered in ``generated`` (unsaved)."""
    path = secret_path(var_dir, name)
    if path.exists():
        return path.read_text().strip()
    generated[name] = GENERATORS[name]()
    return generated[name]


def prepare() -> Path:
    """Create the embedded run's folders and save the secrets this process generated (a file
    that appeared meanwhile is kept). Idempotent; returns ``VAR_DIR``."""
    from django.conf import settings

    var_dir = Path(settings.VAR_DIR)
    on_files = settings.CELERY_BROKER_URL.startswith("filesystem://")
    folders = FOLDERS + (BROKER_FOLDERS if on_files else ())
    for folder in folders:
        (var_dir / folder).mkdir(parents=True, exist_ok=True)
    for name, value in settings.EMBEDDED_SECRETS_GENERATED.items():
        path = secret_path(var_dir, name)
        if not path.exists():
            path.touch(mode=0o600)
            path.write_text(value)
    return var_dir
