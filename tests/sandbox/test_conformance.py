"""Acceptance 1: every request in shared/captures/ replayed against the sandbox in the
``playsms-1.4.8`` profile, after rebuilding the equivalent state through the sandbox's services.
Same HTTP status, content type, error code and the same JSON/XML structure (keys and types)."""

from __future__ import annotations

import json
import re

import pytest
import requests

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
pytestmark = pytest.mark.skipif(not CAPTURES, reason=f"no captures in {CAPTURES_DIR}")


def _replay(sandbox, world, capture, overrides):
    target = capture.target
    body = capture.request_body
    u = capture.query.get("u") or dict(
        p.split("=", 1) for p in body.split("&") if "=" in p
    ).get("u", "admin")
    token = world.token_for(requests.utils.unquote(u))
    target, body = target.replace("TOKEN", token), body.replace("TOKEN", token)
    for name, value in overrides.items():
        target = re.sub(rf"([?&]{name}=)[^&]*", lambda m, v=value: m.group(1) + v, target)
    headers = {}
    if "Content-Type" in capture.request_headers:
        headers["Content-Type"] = capture.request_headers["Content-Type"]
    if world.cookie:
        headers["Cookie"] = f"PHPSESSID={world.cookie}"
    return requests.request(
        capture.method, sandbox.url + target, data=body.encode() or None, headers=headers,
        allow_redirects=False, timeout=10,
    )


@pytest.mark.parametrize("capture", CAPTURES, ids=[f"{c.number:03d}-{c.name}" for c in CAPTURES])
def test_capture_replay(sandbox_playsms, settings, capture):
    settings.SANDBOX_SWITCHES = capture_world.SWITCHES.get(capture.number, {})
    world = capture_world.build(sandbox_playsms)
    hook = capture_world.HOOKS.get(capture.number)
    overrides = hook(world) if hook else None
    overrides = overrides if isinstance(overrides, dict) else {}
    reply = _replay(sandbox_playsms, world, capture, overrides)

    assert reply.status_code == capture.status
    assert reply.headers.get("Content-Type", "") == capture.content_type
    if capture.status in (301, 302):
        assert reply.headers["Location"] == capture.headers["location"]
    expected_body, body = capture.body, reply.text
    assert bool(body) == bool(expected_body)
    assert body_error_code(body, reply.headers.get("Content-Type", "")) == body_error_code(
        expected_body, capture.content_type
    )
    if capture.content_type == "application/json" and expected_body:
        assert json_shape_errors(json.loads(expected_body), reply.json()) == []
    elif capture.content_type.startswith("text/xml"):
        assert body.startswith('<?xml version="1.0"?>\n<response>') and "\n" not in body[22:]
        errors = xml_shape_errors(parse_xml(expected_body), parse_xml(body))
        assert errors == []
    elif expected_body:  # serialize, FATAL text, ...
        shape = re.sub(r"\d+", "N", re.sub(r'"[^"]*"', '""', expected_body))
        assert re.sub(r"\d+", "N", re.sub(r'"[^"]*"', '""', body)) == shape
    for header in ("set-cookie", "cache-control", "expires", "x-frame-options"):
        if header in capture.headers:
            assert header in {h.lower() for h in reply.headers}
