"""playSMS's input sanitiser, applied to every GET/POST value before any op runs (§1.3).

trim → strip backslashes → decode HTML entities once → drop ``<?php``, ``<?``, ``?>`` and
backticks → HTMLPurifier with no allowed tags (tags removed; ``<`` + letter swallows the rest;
control characters dropped; CRLF → LF; remaining ``& < >`` re-encoded as entities).
"""

from __future__ import annotations

import html
import re

_TAG = re.compile(r"<[A-Za-z/!?][^>]*>")
_OPEN_TAG_TO_END = re.compile(r"<[A-Za-z/!?].*\Z", re.S)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def sanitize(value: str) -> str:
    value = value.strip().replace("\\", "")
    value = html.unescape(value)
    for token in ("<?php", "<?", "?>", "`"):
        value = value.replace(token, "")
    value = value.replace("\r\n", "\n")
    value = _TAG.sub("", value)
    value = _OPEN_TAG_TO_END.sub("", value)
    value = _CONTROL.sub("", value).strip()
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def decoded(value: str) -> str:
    """The text as `pv` queues it: entities decoded again, backslashes gone."""
    return html.unescape(value).replace("\\", "")


def php_truthy(value: str) -> bool:
    return value not in ("", "0")


def php_int(value: str) -> int:
    """PHP's ``(int)`` cast of a string: the leading integer, else 0 (``"true"`` → 0)."""
    match = re.match(r"\s*([+-]?\d+)", value or "")
    return int(match.group(1)) if match else 0


def php_float(value: str) -> float:
    """PHP's ``(float)`` cast of a string: the leading number, else 0."""
    match = re.match(r"\s*([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?)", value or "")
    return float(match.group(1)) if match else 0.0
