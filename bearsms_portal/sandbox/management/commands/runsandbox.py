"""Serve the sandbox alone at http://127.0.0.1:PORT/index.php?app=ws, with the tick inside."""

import logging
import socket
import threading

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.core.servers.basehttp import WSGIServer, run
from django.db import close_old_connections

from bearsms_portal.sandbox.services import lifecycle, world

log = logging.getLogger(__name__)


def _tick_forever(interval: float, stop: threading.Event) -> None:
    while not stop.wait(interval):
        try:
            lifecycle.tick()
        except Exception:  # keep the daemon alive; the next tick retries
            log.exception("sandbox tick failed")
        finally:
            close_old_connections()


class NoDelayWSGIServer(WSGIServer):
    """Small replies go out at once on kept-alive connections (no Nagle/delayed-ACK stall)."""

    def get_request(self):
        connection, address = super().get_request()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address


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
        stop = threading.Event()
        ticker = threading.Thread(
            target=_tick_forever, args=(options["tick"], stop), name="sandbox-tick", daemon=True
        )
        ticker.start()
        self.stdout.write(
            f"BearSMS sandbox ({settings.SANDBOX_PROFILE}) at "
            f"http://{options['addr']}:{options['port']}/index.php?app=ws — Ctrl-C to stop"
        )
        try:
            run(
                options["addr"],
                options["port"],
                WSGIHandler(),
                threading=True,
                server_cls=NoDelayWSGIServer,
            )
        except KeyboardInterrupt:
            pass
        finally:
            stop.set()
