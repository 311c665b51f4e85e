"""Reading the real-server transcripts in ``shared/captures/`` and comparing reply shapes."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

SHARED_DIR = Path(__file__).resolve().parents[2].parent / "shared"
CAPTURES_DIR = SHARED_DIR / "captures"


@dataclass
class Capture:
    number: int
    name: str
    method: str
    target: str  # path + query, as sent
    request_headers: dict[str, str]
    request_body: str
    status: int
    headers: dict[str, str]  # lower-cased names
    body: str
    notes: list[str] = field(default_factory=list)

    @property
    def query(self) -> dict[str, str]:
        from urllib.parse import parse_qsl, urlsplit

        return dict(parse_qsl(urlsplit(self.target).query, keep_blank_values=True))

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


def parse(path: Path) -> Capture:
    text = path.read_text()
    head, response = text.split("=== RESPONSE ===\n", 1)
    notes = [line for line in head.splitlines() if line.startswith("#")]
    request = head.split("=== REQUEST ===\n", 1)[1]
    lines = request.splitlines()
    request_line_index = next(i for i, line in enumerate(lines) if re.match(r"^[A-Z]+ /", line))
    method, target, _ = lines[request_line_index].split(" ", 2)
    headers, body_start = {}, len(lines)
    for i in range(request_line_index + 1, len(lines)):
        if not lines[i].strip():
            body_start = i + 1
            break
        name, value = lines[i].split(":", 1)
        headers[name.strip()] = value.strip()
    request_body = "\n".join(lines[body_start:]).strip()
    status_line, rest = response.split("\n", 1)
    status = int(status_line.split()[1])
    header_block, _, body = rest.partition("\n\n")
    response_headers = {}
    for line in header_block.splitlines():
        name, value = line.split(":", 1)
        response_headers[name.strip().lower()] = value.strip()
    match = re.match(r"(\d+)-(.*)\.txt", path.name)
    return Capture(
        number=int(match.group(1)),
        name=match.group(2),
        method=method,
        target=target,
        request_headers=headers,
        request_body=request_body,
        status=status,
        headers=response_headers,
        body=body.rstrip("\n"),
        notes=notes,
    )


def all_captures() -> list[Capture]:
    if not CAPTURES_DIR.is_dir():
        return []
    return [parse(p) for p in sorted(CAPTURES_DIR.glob("[0-9]*.txt"))]


def parse_xml(body: str) -> ET.Element:
    """The <response> element of a reply (our own server's or a capture's)."""
    return ET.fromstring(body.split("\n", 1)[1])  # noqa: S314 - trusted test data


# --- shape comparison ---------------------------------------------------------------------------
def json_shape_errors(expected, actual, path: str = "$") -> list[str]:
    """Keys (in order) and value types must match; list items are compared with the expected
    item at the same index, or with the first expected item when the lists differ in length."""
    numbers = (
        isinstance(expected, int | float)
        and isinstance(actual, int | float)
        and not isinstance(expected, bool)
    )
    if type(expected) is not type(actual) and not numbers:
        return [f"{path}: expected {type(expected).__name__}, got {type(actual).__name__}"]
    if isinstance(expected, dict):
        if list(expected) != list(actual):
            return [f"{path}: keys {list(expected)} != {list(actual)}"]
        errors = []
        for key in expected:
            errors += json_shape_errors(expected[key], actual[key], f"{path}.{key}")
        return errors
    if isinstance(expected, list):
        if bool(expected) != bool(actual):
            return [f"{path}: expected {len(expected)} items, got {len(actual)}"]
        errors = []
        for i, item in enumerate(actual):
            model = expected[i] if len(expected) == len(actual) else expected[0]
            errors += json_shape_errors(model, item, f"{path}[{i}]")
        return errors
    return []


def xml_shape_errors(
    expected: ET.Element, actual: ET.Element, path: str = "", in_list: bool = False
) -> list[str]:
    path = f"{path}/{expected.tag}"
    if expected.tag != actual.tag:
        return [f"{path}: tag {expected.tag} != {actual.tag}"]
    exp_children, act_children = list(expected), list(actual)
    if exp_children or act_children:
        exp_tags = [c.tag for c in exp_children]
        act_tags = [c.tag for c in act_children]
        if set(exp_tags) == {"item"} or set(act_tags) == {"item"}:
            if bool(exp_children) != bool(act_children) or set(exp_tags) != set(act_tags):
                return [f"{path}: items {exp_tags} != {act_tags}"]
            same = len(exp_children) == len(act_children)
            errors = []
            for i, child in enumerate(act_children):
                model = exp_children[i] if same else exp_children[0]
                errors += xml_shape_errors(model, child, path, in_list=not same)
            return errors
        if exp_tags != act_tags:
            return [f"{path}: children {exp_tags} != {act_tags}"]
        errors = []
        for exp, act in zip(exp_children, act_children, strict=True):
            errors += xml_shape_errors(exp, act, path, in_list=in_list)
        return errors
    if not in_list and expected.tag != "timestamp" and bool(expected.text) != bool(actual.text):
        return [f"{path}: expected {'text' if expected.text else 'empty'}, got {actual.text!r}"]
    return []


def body_error_code(body: str, content_type: str) -> str | None:
    if content_type.startswith("application/json") and body:
        data = json.loads(body)
        return data.get("error") if isinstance(data, dict) else None
    if content_type.startswith("text/xml") and body:
        element = parse_xml(body).find("error")
        return element.text if element is not None else None
    return None
