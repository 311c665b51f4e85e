"""Talking to the sandbox in tests: over real HTTP (live server) or in-process (test client)."""

from __future__ import annotations

import json as jsonlib
from urllib.parse import urlencode, urlsplit

import requests
from django.test import Client


class Reply:
    """The parts of a ``requests.Response`` the tests use, for a test-client response."""

    def __init__(self, response):
        self.status_code = response.status_code
        self.headers = response.headers
        self.content = response.content
        self.text = response.content.decode()
        self.cookies = {k: v.value for k, v in response.cookies.items()}

    def json(self):
        return jsonlib.loads(self.text)


def send(
    sandbox,
    method: str = "GET",
    query: dict | str = "",
    *,
    data=None,
    files=None,
    headers: dict | None = None,
    cookies: dict | None = None,
    timeout: float = 10,
):
    """One raw request to ``index.php?<query>``; ``data`` is form-encoded (or sent as is when
    it is a string), ``files`` makes it multipart."""
    query = query if isinstance(query, str) else urlencode(query)
    url = f"{sandbox.endpoint}?{query}" if query else sandbox.endpoint
    if not sandbox.url.startswith("http://testserver"):
        return requests.request(
            method,
            url,
            data=data,
            files=files,
            headers=headers,
            cookies=cookies,
            timeout=timeout,
            allow_redirects=False,
        )
    client = Client()
    for name, value in (cookies or {}).items():
        client.cookies[name] = value
    split = urlsplit(url)
    path = f"{split.path}?{split.query}" if split.query else split.path
    content_type = (headers or {}).get("Content-Type", "application/x-www-form-urlencoded")
    if files:
        return Reply(client.post(path, {k: v[1] for k, v in files.items()}))
    if isinstance(data, dict):
        data = urlencode(data)
    return Reply(client.generic(method, path, (data or "").encode(), content_type=content_type))


def call(
    sandbox,
    op: str | None = None,
    *,
    u: str | None = None,
    h: str | None = None,
    method: str = "GET",
    fmt: str | None = None,
    timeout: float = 10,
    **params,
):
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
    return send(sandbox, method, query, data=body or None, timeout=timeout)


def as_user(sandbox, username: str, token: str, op: str, **params):
    return call(sandbox, op, u=username, h=token, **params)
