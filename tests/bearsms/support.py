"""Test helpers for the BearSMS client: capture files and a local HTTP server that replays them.

A capture (``shared/captures/NNN-*.txt``) holds one real exchange: the request (URL, request
line, headers, body) and the raw response (status line, headers, body). :class:`ReplayServer`
answers every request with queued responses (or one fixed response) and records what it got.
"""

from __future__ import annotations

import http.server
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

SHARED_DIR = Path(__file__).resolve().parents[2].parent / "shared"
# BEARSMS_CAPTURES_DIR replays another folder of transcripts (e.g. new ones from a real server)
CAPTURES_DIR = Path(os.environ.get("BEARSMS_CAPTURES_DIR") or SHARED_DIR / "captures")

# headers the replay server sets itself
_HOP_HEADERS = {"content-length", "connection", "transfer-encoding", "host", "date"}


@dataclass
class Response:
    status: int = 200
    reason: str = "OK"
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    delay: float = 0.0  # seconds before answering
    reset: bool = False  # close the socket without answering

    @property
    def content_type(self) -> str:
        for name, value in self.headers:
            if name.lower() == "content-type":
                return value
        return ""


def json_response(body: str | bytes, status: int = 200) -> Response:
    data = body.encode() if isinstance(body, str) else body
    return Response(status, "OK", [("Content-Type", "application/json")], data)


def html_response(body: bytes = b"", status: int = 200) -> Response:
    return Response(status, "OK", [("Content-type", "text/html; charset=UTF-8")], body)


@dataclass
class Capture:
    path: Path
    number: str
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: bytes
    response: Response

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.url).query, keep_blank_values=True))

    @property
    def params(self) -> dict[str, str]:
        """The parameters the server saw: query string, overridden by a form body (§1.2)."""
        merged = self.query
        ctype = self.request_headers.get("content-type", "")
        if self.method == "POST" and "x-www-form-urlencoded" in ctype:
            merged.update(parse_qsl(self.request_body.decode(), keep_blank_values=True))
        return merged

    @property
    def op(self) -> str:
        return self.params.get("op", "").strip().lower()


def _split_head(block: bytes) -> tuple[list[str], bytes]:
    head, _, body = block.partition(b"\n\n")
    return head.decode().split("\n"), body


def load_capture(path: Path) -> Capture:
    raw = path.read_bytes()
    request_part, _, response_part = raw.partition(b"\n=== RESPONSE ===\n")
    request_part = request_part.split(b"=== REQUEST ===\n", 1)[1]
    lines, request_body = _split_head(request_part)
    url = lines[0].removeprefix("URL: ").strip()
    method = lines[1].split(" ", 1)[0]
    request_headers = {}
    for line in lines[2:]:
        name, _, value = line.partition(":")
        request_headers[name.strip().lower()] = value.strip()
    lines, body = _split_head(response_part)
    status_line = lines[0].split(" ", 2)
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() not in _HOP_HEADERS:
            headers.append((name.strip(), value.strip()))
    if body.endswith(b"\n"):  # the capture file adds one newline after the body
        body = body[:-1]
    response = Response(
        int(status_line[1]), status_line[2] if len(status_line) > 2 else "", headers, body
    )
    return Capture(
        path, path.name[:3], method, url, request_headers, request_body.rstrip(b"\n"), response
    )


def all_capture_paths() -> list[Path]:
    if not CAPTURES_DIR.is_dir():
        return []
    return sorted(CAPTURES_DIR.glob("[0-9][0-9][0-9]-*.txt"))


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]


class ReplayServer:
    """A threaded local HTTP server answering from a queue (or one default) of responses."""

    def __init__(self) -> None:
        self.queue: list[Response] = []
        self.default: Response | None = None
        self.received: list[Received] = []
        self.handler = None  # optional callable(Received) -> Response
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output quiet
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                got = Received(
                    self.command,
                    parts.path,
                    dict(parse_qsl(parts.query, keep_blank_values=True)),
                    dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)),
                    {k.lower(): v for k, v in self.headers.items()},
                )
                server.received.append(got)
                response = server.next_response(got)
                if response.delay:
                    time.sleep(response.delay)
                if response.reset:
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                    )
                    self.close_connection = True
                    return
                self.send_response(response.status, response.reason or None)
                for name, value in response.headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.send_header("Connection", "close")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(response.body)
                self.close_connection = True

            do_GET = do_POST = do_HEAD = do_PUT = _serve

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def next_response(self, got: Received) -> Response:
        if self.handler is not None:
            return self.handler(got)
        if self.queue:
            return self.queue.pop(0)
        if self.default is not None:
            return self.default
        return Response(599, "No response queued", [], b"")

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ReplayServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
