"""Encryption at rest for secrets kept in the database (the accounts' webservices tokens).

``settings.FIELD_ENCRYPTION_KEY`` holds one or more Fernet keys, comma-separated. The first key
encrypts; every key decrypts. Rotation: put a new key in front, run
``manage.py rotate_field_key`` (re-encrypts every stored value with the first key), then drop
the old key from the setting.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["InvalidToken", "decrypt", "encrypt", "fernet", "rotate"]


def _keys(raw: str) -> tuple[str, ...]:
    keys = tuple(key.strip() for key in (raw or "").split(",") if key.strip())
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY must hold at least one Fernet key.")
    return keys


@lru_cache(maxsize=8)
def _fernet_for(raw: str) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in _keys(raw)])
    except ValueError as exc:  # a malformed key; its value must not end up in the message
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY holds a value that is not a Fernet key."
        ) from exc.__cause__


def fernet() -> MultiFernet:
    """The MultiFernet for the current setting (cached per setting value)."""
    return _fernet_for(settings.FIELD_ENCRYPTION_KEY)


def encrypt(plaintext: str) -> str:
    """Encrypt with the first key; the empty string stays empty (nothing to hide)."""
    if not plaintext:
        return ""
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    """Decrypt with whichever configured key matches; raises ``InvalidToken`` if none does."""
    if not ciphertext:
        return ""
    return fernet().decrypt(ciphertext.encode()).decode()


def rotate(ciphertext: str) -> str:
    """Re-encrypt with the first key (no-op for the empty string)."""
    if not ciphertext:
        return ""
    return fernet().rotate(ciphertext.encode()).decode()
