"""The one list of secret parameter names and the one redaction of them.

Everything that may show a credential — exception texts and body excerpts of the client, log
lines of the portal (its formatter and urllib3's request lines), the ``bearsms`` management
command's output, the sandbox's request log — masks it here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

__all__ = ["SECRET_PARAMS", "MASK", "redact", "redact_params", "RedactSecretsFilter"]

#: request parameters and answer fields whose value is a credential: the webservices token
#: (``h``, ``token``), passwords (``p``, ``password``, ``data_password``), the single-use
#: login key, and the portal's operator token setting.
SECRET_PARAMS = frozenset(
    {"h", "p", "token", "login_key", "password", "data_password", "admin_token"}
)
MASK = "***"

_KEYS = "|".join(sorted((re.escape(k) for k in SECRET_PARAMS), key=len, reverse=True))
_XML_KEYS = "|".join(re.escape(k) for k in sorted(SECRET_PARAMS) if len(k) > 1)  # not <p>
# A key (bare or quoted), a separator (= or :), then the value: within its quotes when quoted
# (JSON, dict and keyword reprs), else up to a delimiter (query strings, form bodies).
_KEY_VALUE = re.compile(
    rf"""(?P<pre>(?<![A-Za-z0-9_])(?P<q>['"]?)(?:{_KEYS})(?P=q)\s*[=:]\s*(?P<vq>['"])?)"""
    rf"""(?(vq)[^'"]*|[^&\s'",;}})\]<]+)""",
    re.IGNORECASE,
)
_XML_ELEMENT = re.compile(rf"(?i)(<(?:{_XML_KEYS})>)[^<]*")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with each known secret value, and the value of every parameter named in
    :data:`SECRET_PARAMS` (``h=…``, ``"token": "…"``, ``token='…'``, ``<token>…``), masked."""
    if not text:
        return text
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, MASK)
    text = _KEY_VALUE.sub(lambda m: m.group("pre") + MASK, text)
    return _XML_ELEMENT.sub(rf"\1{MASK}", text)


def redact_params(value: Any) -> Any:
    """A copy of ``value`` (dicts and lists, nested) with secret parameters' values masked."""
    if isinstance(value, dict):
        return {
            k: MASK if str(k).lower() in SECRET_PARAMS and v else redact_params(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact_params(v) for v in value]
    return value


class RedactSecretsFilter(logging.Filter):
    """Redacts the rendered message and freezes it, so every later handler sees the safe text."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not break logging
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        return True
