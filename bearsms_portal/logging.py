"""Log redaction: secret values never reach a log line, whatever shape they are written in.

The secret parameter names, the redaction and the filter are the client's
(:mod:`bearsms_portal.bearsms.redaction`); this module adds the portal's formatter, which also
redacts tracebacks.
"""

import logging

from bearsms_portal.bearsms.redaction import RedactSecretsFilter, redact

__all__ = [
    "QuietForbidden",
    "QuietSandboxRequests",
    "RedactSecretsFilter",
    "RedactingFormatter",
    "redact",
]


class RedactingFormatter(logging.Formatter):
    """The portal's one formatter; redacts the final text, tracebacks included."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class QuietForbidden(logging.Filter):
    """``django.request``'s "Forbidden (Permission denied)" line, without the traceback: a
    refused action is audited, it is not an error of the portal."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True


class QuietSandboxRequests(logging.Filter):
    """Drops runserver's line for each answered call to the built-in sandbox's API (the
    portal's own background pulls, every few seconds); people's requests keep their line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name != "django.server":
            return True
        line = record.getMessage()  # '"POST /sandbox/index.php?app=ws HTTP/1.1" 200 106'
        parts = line.rsplit(" ", 2)
        status = parts[1] if len(parts) == 3 and parts[1].isdigit() else "500"
        return not (" /sandbox/" in line and int(status) < 400)
