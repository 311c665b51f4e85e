"""Reply bodies exactly as PHP produces them: ``json_encode``, SimpleXML and ``serialize``."""

from __future__ import annotations

import json
import re
from decimal import Decimal

JSON = "application/json"
XML = "text/xml;charset=UTF-8"
SERIALIZE = "text/plain;charset=UTF-8"
HTML = "text/html; charset=UTF-8"


def _php_number(value):
    """Floats with no fractional part print as integers (``95.0`` → ``95``)."""
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def _json_default(value):
    """Money travels as Decimal and prints the PHP way; everything else is a plain JSON type."""
    if isinstance(value, Decimal):
        return _php_number(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def to_json(result: dict) -> str:
    """``json_encode`` with default flags: ``/`` escaped, non-ASCII as ``\\uXXXX``. Numbers that
    PHP holds as floats are passed as Decimal (``95`` not ``95.0``)."""
    text = json.dumps(result, separators=(",", ":"), ensure_ascii=True, default=_json_default)
    return text.replace("/", "\\/")


# --- XML (SimpleXML addChild semantics) ---------------------------------------------------------
_ENTITY = re.compile(r"&(#x[0-9A-Fa-f]+|#[0-9]+|amp|lt|gt|quot|apos);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_XML_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _xml_value(value) -> str:
    if value is None or value is False or value == "":
        return ""
    if value is True:
        return "1"
    if isinstance(value, float | Decimal | int):
        return str(_php_number(value))
    text = str(value)
    # addChild parses the value as XML content: a bare & is an unterminated entity (empty
    # element), an existing entity is decoded, a control character empties the value.
    if "&" in _ENTITY.sub("", text) or _XML_CONTROL.search(text):
        return ""

    def decode(match: re.Match) -> str:
        ref = match.group(1)
        if ref.startswith("#x"):
            return chr(int(ref[2:], 16))
        if ref.startswith("#"):
            return chr(int(ref[1:]))
        return _NAMED[ref]

    text = _ENTITY.sub(decode, text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "".join(ch if ord(ch) < 128 else f"&#x{ord(ch):X};" for ch in text)


def _xml_node(name: str, value) -> str:
    if isinstance(value, dict):
        inner = "".join(_xml_node(str(k), v) for k, v in value.items())
    elif isinstance(value, list | tuple):
        inner = "".join(_xml_node("item", v) for v in value)
    else:
        inner = _xml_value(value)
    return f"<{name}>{inner}</{name}>" if inner else f"<{name}/>"


def to_xml(result: dict) -> str:
    return '<?xml version="1.0"?>\n' + _xml_node("response", result)


# --- PHP serialize() ----------------------------------------------------------------------------
def _serialize(value) -> str:
    value = _php_number(value) if isinstance(value, float | Decimal) else value
    if value is None:
        return "N;"
    if isinstance(value, bool):
        return f"b:{int(value)};"
    if isinstance(value, int):
        return f"i:{value};"
    if isinstance(value, float):
        return f"d:{value!r};"
    if isinstance(value, dict | list | tuple):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        body = "".join(_serialize_key(k) + _serialize(v) for k, v in items)
        return f"a:{len(value)}:{{{body}}}"
    text = str(value)
    return f's:{len(text.encode())}:"{text}";'


def _serialize_key(key) -> str:
    return f"i:{key};" if isinstance(key, int) else _serialize(str(key))


def to_serialize(result: dict) -> str:
    return _serialize(result)


def render(result: dict, fmt: str) -> tuple[str, str]:
    """(body, content type) for the `format` parameter (anything unknown means JSON)."""
    fmt = (fmt or "").strip().lower()
    if fmt == "xml":
        return to_xml(result), XML
    if fmt == "serialize":
        return to_serialize(result), SERIALIZE
    return to_json(result), JSON
