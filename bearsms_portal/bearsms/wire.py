"""The one place that turns BearSMS response bodies into Python values.

``parse_body`` accepts the three formats the server speaks (JSON, XML, PHP ``serialize``) and
recognises the shapes that are not the protocol (empty body, the DB "FATAL ERROR" text, HTML).
The ``as_*`` coercions accept every numeric form the real server sends: JSON ints and floats
(PHP ≥ 8.1), numeric strings (PHP 7), ``"0"`` for zero credit, ``null``/empty elements.
``excerpt`` gives a short, redacted start of a body for error messages.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET  # noqa: S405 (DTDs are refused before parsing, see _parse_xml)
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from .redaction import redact

FATAL_TEXT = "FATAL ERROR"
EXCERPT_CHARS = 120


def excerpt(body: bytes | str, secrets: tuple[str, ...] | list[str] = ()) -> str:
    """A short, redacted, printable start of a body for error messages."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = redact(text, secrets)
    text = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    return text[:EXCERPT_CHARS] + ("…" if len(text) > EXCERPT_CHARS else "")


class BodyError(ValueError):
    """Raised by :func:`parse_body` for bodies that are not the protocol; ``kind`` says which."""

    def __init__(self, kind: str, detail: str = ""):
        self.kind = kind  # "empty" | "fatal" | "malformed"
        super().__init__(detail or kind)


def parse_body(body: bytes, content_type: str = "") -> dict[str, Any]:
    """Parse a 200 answer into the envelope dict, or raise :class:`BodyError`."""
    stripped = body.strip()
    if not stripped:
        raise BodyError("empty")
    if stripped.startswith(FATAL_TEXT.encode()):
        raise BodyError("fatal", stripped[:80].decode("utf-8", "replace"))
    ctype = content_type.lower()
    try:
        if stripped.startswith(b"<?xml") or stripped.startswith(b"<response") or "xml" in ctype:
            result = _parse_xml(stripped)
        elif re.match(rb"^a:\d+:\{", stripped) or "text/plain" in ctype:
            result = _parse_php_serialized(stripped)
        else:
            result = json.loads(stripped.decode("utf-8"))
    except BodyError:
        raise
    except (ValueError, ET.ParseError, UnicodeDecodeError, IndexError) as exc:
        raise BodyError("malformed", f"{type(exc).__name__}") from None
    if not isinstance(result, dict):
        raise BodyError("malformed", "top level is not an object")
    return result


# --- XML -------------------------------------------------------------------------------------


def _parse_xml(body: bytes) -> dict[str, Any]:
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:  # no DTDs: no entity expansion attacks
        raise BodyError("malformed", "XML with a DTD")
    root = ET.fromstring(body)  # noqa: S314 (DTD refused above)
    if root.tag != "response":
        raise BodyError("malformed", f"XML root <{root.tag}>")
    value = _xml_value(root)
    return value if isinstance(value, dict) else {}


def _xml_value(element: ET.Element) -> Any:
    children = list(element)
    if not children:
        return element.text if element.text else None  # empty element: null, "" or false
    if all(child.tag == "item" for child in children):
        return [_xml_value(child) for child in children]
    return {child.tag: _xml_value(child) for child in children}


# --- PHP serialize (format=serialize) ------------------------------------------------------------


def _parse_php_serialized(body: bytes) -> Any:
    value, pos = _php_value(body, 0)
    if pos != len(body):
        raise ValueError("trailing data")
    return value


def _php_value(data: bytes, pos: int) -> tuple[Any, int]:
    kind = data[pos : pos + 1]
    if kind == b"N":
        _expect(data, pos + 1, b";")
        return None, pos + 2
    if kind in (b"i", b"d", b"b"):
        _expect(data, pos + 1, b":")
        end = data.index(b";", pos + 2)
        raw = data[pos + 2 : end].decode("ascii")
        if kind == b"i":
            return int(raw), end + 1
        if kind == b"b":
            return raw == "1", end + 1
        return float(raw), end + 1
    if kind == b"s":
        length, start = _counted(data, pos, b'"')
        text = data[start : start + length]
        if len(text) != length:
            raise ValueError("truncated string")
        _expect(data, start + length, b'";')
        return text.decode("utf-8"), start + length + 2
    if kind == b"a":
        count, pos = _counted(data, pos, b"{")
        items: list[tuple[Any, Any]] = []
        for _ in range(count):
            key, pos = _php_value(data, pos)
            value, pos = _php_value(data, pos)
            items.append((key, value))
        _expect(data, pos, b"}")
        if [k for k, _ in items] == list(range(count)):
            return [v for _, v in items], pos + 1
        return {str(k): v for k, v in items}, pos + 1
    raise ValueError(f"unsupported serialized type {kind!r}")


def _counted(data: bytes, pos: int, opener: bytes) -> tuple[int, int]:
    """``s:N:"`` / ``a:N:{`` at ``pos``: the count ``N`` and where the content starts."""
    _expect(data, pos + 1, b":")
    colon = data.index(b":", pos + 2)
    count = int(data[pos + 2 : colon])
    _expect(data, colon + 1, opener)
    return count, colon + 2


def _expect(data: bytes, pos: int, token: bytes) -> None:
    if data[pos : pos + len(token)] != token:
        raise ValueError("malformed serialized data")


# --- coercions -------------------------------------------------------------------------------


def as_int(value: Any, *, field: str = "") -> int:
    """An id or status: JSON int, numeric string (PHP 7) or float with no fraction."""
    if isinstance(value, bool):
        raise ValueError(f"{field}: boolean where a number was expected")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    raise ValueError(f"{field}: not an integer: {str(value)[:20]!r}")


def as_optional_int(value: Any, *, field: str = "") -> int | None:
    """Like :func:`as_int` but ``None``/``""`` (``@user`` and failed ``pv`` rows) → ``None``."""
    if value is None or value == "":
        return None
    return as_int(value, field=field)


def as_decimal(value: Any, *, field: str = "") -> Decimal:
    """Money: JSON number, numeric string, ``"0"``; ``null``/empty element → 0."""
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, bool):
        raise ValueError(f"{field}: boolean where an amount was expected")
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{field}: not a number: {str(value)[:20]!r}") from None
    if not result.is_finite():
        raise ValueError(f"{field}: not a finite number")
    return result


def as_optional_decimal(value: Any, *, field: str = "") -> Decimal | None:
    if value is None or value == "":
        return None
    return as_decimal(value, field=field)


def as_str(value: Any) -> str:
    """Text: ``None`` (null or an empty XML element) → ``""``; numbers → their text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else ""
    return str(value)


def as_datetime(value: Any, offset: timedelta) -> datetime | None:
    """A naive ``YYYY-MM-DD hh:mm:ss`` read in ``offset``; zero dates and blanks → ``None``."""
    text = as_str(value).strip()
    if not text or text.startswith("0000-00-00"):
        return None
    try:
        naive = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise ValueError(f"not a datetime: {text[:25]!r}") from None
    return naive.replace(tzinfo=timezone(offset))


def parse_offset(value: str | timedelta | int | None) -> timedelta:
    """``"+0700"``/``"-0500"``/``"+07:00"``, a timedelta, or minutes → a timedelta."""
    if value is None:
        return timedelta(0)
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int):
        return timedelta(minutes=value)
    match = re.fullmatch(r"\s*([+-]?)(\d{2}):?(\d{2})\s*", value)
    if not match:
        raise ValueError(f"timezone offset must look like +0700, got {value!r}")
    sign = -1 if match.group(1) == "-" else 1
    return sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))


def clamp_playsms_offset(offset: timedelta) -> timedelta:
    """playSMS treats a negative account/gateway offset as +0000 (§1.7)."""
    return max(offset, timedelta(0))
