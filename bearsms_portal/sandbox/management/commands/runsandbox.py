"""Serve the sandbox alone at http://127.0.0.1:PORT/index.php?app=ws, with the tick inside.

It serves only the sandbox, so it runs only the middleware the sandbox needs
(:data:`MIDDLEWARE`): ``CommonMiddleware``, for the ``Content-Length`` without which the
server closes the connection after each reply (no keep-alive). The webservices endpoint is
CSRF-exempt and keeps its own ``PHPSESSID``, and the web UI pages behind ``ws_login`` read
that cookie, not Django's session. The portal's
stack (CSP, sessions, CSRF, auth, axes, messages…) belongs to the portal, and cost the sandbox
CPU on every ``pv`` that a remote BearSMS server does not spend on the caller's machine. The
staff fault page (``faults/``) needs the portal's sign-in, so it is served by the portal
(``/sandbox/faults/``), not here; fault switches set there or by ``faults.set_fault`` are read
from the shared database either way.

Each request is stamped when its request line has been read (``environ["sandbox.received"]``):
the sandbox's request log measures its ``duration_ms`` from there, so the duration is the
server's whole handling of the request (HTTP parsing, WSGI, the view), as a web server's
access log measures it, not only the view's part of it. The entry itself is written after
the reply has been sent (``environ["sandbox.after_reply"]``), as a web server writes its
access log: the caller does not wait for it.
"""

import logging
import socket
import socketserver
import threading
import time

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer
from django.db import close_old_connections

from bearsms_portal.sandbox.services import lifecycle, world
from bearsms_portal.sandbox.views import AFTER_REPLY, RECEIVED

log = logging.getLogger(__name__)


def _tick_forever(interval: float, stop: threading.Event) -> None:
    while not stop.wait(interval):
        try:
            lifecycle.tick()
        except Exception:  # keep the daemon alive; the next tick retries
            log.exception("sandbox tick failed")
        finally:
            close_old_connections()


#: The sandbox's own middleware (see the module docstring).
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]


class NoDelayWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    """One thread per connection; small replies go out at once on kept-alive connections (no
    Nagle/delayed-ACK stall)."""

    daemon_threads = True

    def get_request(self):
        connection, address = super().get_request()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address


class StampingRequestHandler(WSGIRequestHandler):
    """Django's request handler, stamping each request when its request line has been read
    and running what the request left for after its reply (the request log's entry) once the
    reply is written, before the connection's next request is read."""

    def handle_one_request(self):
        self.after_reply = []
        try:
            super().handle_one_request()
        finally:  # also when the caller had gone before its reply could be written
            for work in self.after_reply:
                try:
                    work()
                except Exception:  # the reply has gone; keep serving the connection
                    log.exception("sandbox: work after the reply failed")

    def parse_request(self):
        self.received = time.monotonic()
        return super().parse_request()

    def get_environ(self):
        environ = super().get_environ()
        environ[RECEIVED] = self.received
        environ[AFTER_REPLY] = self.after_reply
        return environ


class Command(BaseCommand):
    help = "Serve the BearSMS sandbox on its own port, with the lifecycle tick running inside."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8090)
        parser.add_argument("--addr", default="127.0.0.1")
        parser.add_argument("--tick", type=float, default=1.0, help="seconds between ticks")
        parser.add_argument("--no-migrate", action="store_true", help="skip `migrate`")

    def handle(self, *args, **options):
        if not options["no_migrate"]:
            call_command("migrate", verbosity=0, interactive=False)
        world.ensure_main_admin(settings.BEARSMS_ADMIN_USERNAME, token=settings.BEARSMS_ADMIN_TOKEN)
        settings.ROOT_URLCONF = "bearsms_portal.sandbox.standalone_urls"
        settings.MIDDLEWARE = MIDDLEWARE
        stop = threading.Event()
        ticker = threading.Thread(
            target=_tick_forever, args=(options["tick"], stop), name="sandbox-tick", daemon=True
        )
        ticker.start()
        self.stdout.write(
            f"BearSMS sandbox ({settings.SANDBOX_PROFILE}) at "
            f"http://{options['addr']}:{options['port']}/index.php?app=ws — Ctrl-C to stop"
        )
        server = NoDelayWSGIServer((options["addr"], options["port"]), StampingRequestHandler)
        server.set_app(WSGIHandler())
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            stop.set()
            server.server_close()
