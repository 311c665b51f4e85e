"""Small helpers for talking to the sandbox over HTTP in tests."""

from __future__ import annotations

import requests


def call(sandbox, op: str | None = None, *, u: str | None = None, h: str | None = None,
         method: str = "GET", fmt: str | None = None, timeout: float = 10, **params):
    """One webservices call; ``u``/``h`` default to the admin's credentials."""
    query = {"app": "ws"}
    body = {}
    target = body if method == "POST" else query
    if op is not None:
        target["op"] = op
    target["u"] = sandbox.admin_username if u is None else u
    if h is not None or u is None:
        target["h"] = sandbox.admin_token if h is None else h
    if fmt:
        target["format"] = fmt
    target.update(params)
    return requests.request(method, sandbox.endpoint, params=query, data=body or None,
                            timeout=timeout, allow_redirects=False)


def as_user(sandbox, username: str, token: str, op: str, **params):
    return call(sandbox, op, u=username, h=token, **params)
