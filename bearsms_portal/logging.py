"""Log redaction: secret values never reach a log line, whatever shape they are written in.

Covers ``h=…`` in query strings and form bodies, ``'token': '…'`` in dict reprs, ``"h": "…"``
in JSON and ``token=…`` in keyword reprs, for the keys in ``SECRET_KEYS``.
"""

import logging
import re

SECRET_KEYS = ("h", "p", "login_key", "token", "data_password", "password", "admin_token")
REDACTED = "********"

_KEYS = "|".join(sorted((re.escape(k) for k in SECRET_KEYS), key=len, reverse=True))
# key, then a separator (=, ': ', ": ", =' ...), then the value up to a delimiter.
_PATTERN = re.compile(
    rf"""(?P<pre>(?<![A-Za-z0-9_])(?P<q>['"]?)(?:{_KEYS})(?P=q)\s*(?:=|:)\s*(?P<vq>['"]?))"""
    rf"""(?P<value>[^&\s'",;}})\]]+)""",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """Return ``text`` with the value of every secret key replaced by a fixed mask."""
    if not text:
        return text
    return _PATTERN.sub(lambda m: f"{m.group('pre')}{REDACTED}", text)


class RedactSecretsFilter(logging.Filter):
    """Redacts the rendered message (and freezes it, so later handlers see the safe text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not break logging
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        return True


class RedactingFormatter(logging.Formatter):
    """The portal's one formatter; redacts the final text, tracebacks included."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))
