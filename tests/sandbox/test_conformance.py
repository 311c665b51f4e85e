"""Acceptance 1: every request in shared/captures/ replayed against the sandbox in the
``playsms-1.4.8`` profile, after rebuilding the equivalent state through the sandbox's services.
Same HTTP status, content type, error code and the same JSON/XML structure (keys and types).

The requests go through Django's test client (the whole middleware stack and view, no socket) so
each capture's world is rolled back instead of truncated — 146 worlds stay fast on PostgreSQL.
The same endpoint over real HTTP is exercised by the checklist tests (live server)."""

from __future__ import annotations

import json
import re
from urllib.parse import unquote

import pytest

from tests.conftest import require_captures

from . import capture_world
from .captures import (
    CAPTURES_DIR,
    all_captures,
    body_error_code,
    json_shape_errors,
    parse_xml,
    xml_shape_errors,
)

CAPTURES = all_captures()


def test_the_captures_are_there():
    require_captures(len(CAPTURES), CAPTURES_DIR)


def _replay(client, world, capture, overrides):
    """Send the captured request as it was (raw query string, body, content type)."""
    target, body = capture.target, capture.request_body
    u = capture.query.get("u") or dict(p.split("=", 1) for p in body.split("&") if "=" in p).get(
        "u", "admin"
    )
    token = world.token_for(unquote(u))
    target, body = target.replace("TOKEN", token), body.replace("TOKEN", token)
    for name, value in overrides.items():
        target = re.sub(rf"([?&]{name}=)[^&]*", lambda m, v=value: m.group(1) + v, target)
    if world.cookie:
        client.cookies["PHPSESSID"] = world.cookie
    return client.generic(
        capture.method,
        "/sandbox" + target,
        data=body.encode(),
        content_type=capture.request_headers.get("Content-Type", ""),
    )


@pytest.mark.parametrize("capture", CAPTURES, ids=[f"{c.number:03d}-{c.name}" for c in CAPTURES])
def test_capture_replay(sandbox_playsms, client, settings, capture):
    settings.SANDBOX_SWITCHES = capture_world.SWITCHES.get(capture.number, {})
    world = capture_world.build(sandbox_playsms)
    hook = capture_world.HOOKS.get(capture.number)
    overrides = hook(world) if hook else None
    overrides = overrides if isinstance(overrides, dict) else {}
    reply = _replay(client, world, capture, overrides)

    assert reply.status_code == capture.status
    assert reply.headers.get("Content-Type", "") == capture.content_type
    if capture.status in (301, 302):
        assert reply.headers["Location"] == capture.headers["location"]
    expected_body, body = capture.body, reply.content.decode()
    assert bool(body) == bool(expected_body)
    assert body_error_code(body, reply.headers.get("Content-Type", "")) == body_error_code(
        expected_body, capture.content_type
    )
    if capture.content_type == "application/json" and expected_body:
        assert json_shape_errors(json.loads(expected_body), json.loads(body)) == []
    elif capture.content_type.startswith("text/xml"):
        assert body.startswith('<?xml version="1.0"?>\n<response>') and "\n" not in body[22:]
        errors = xml_shape_errors(parse_xml(expected_body), parse_xml(body))
        assert errors == []
    elif expected_body:  # serialize, FATAL text, ...
        shape = re.sub(r"\d+", "N", re.sub(r'"[^"]*"', '""', expected_body))
        assert re.sub(r"\d+", "N", re.sub(r'"[^"]*"', '""', body)) == shape
    for header in ("set-cookie", "cache-control", "expires", "x-frame-options"):
        if header in capture.headers:
            assert header in {h.lower() for h in reply.headers}, header
