"""Log redaction: secret values never reach a log line, whatever shape they are written in.

The secret parameter names, the redaction and the filter are the client's
(:mod:`bearsms_portal.bearsms.redaction`); this module adds the portal's formatter, which also
redacts tracebacks.
"""

import logging

from bearsms_portal.bearsms.redaction import RedactSecretsFilter, redact

__all__ = ["RedactSecretsFilter", "RedactingFormatter", "redact"]


class RedactingFormatter(logging.Formatter):
    """The portal's one formatter; redacts the final text, tracebacks included."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))
