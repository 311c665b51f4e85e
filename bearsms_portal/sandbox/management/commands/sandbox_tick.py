"""Run the sandbox's lifecycle tick once (or in a loop)."""

import time
from dataclasses import asdict

from django.core.management.base import BaseCommand

from bearsms_portal.sandbox.services import lifecycle


class Command(BaseCommand):
    help = "Advance the sandbox: dispatch due messages, delivery reports, incoming, credit."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="keep ticking until Ctrl-C")
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between ticks")

    def handle(self, *args, **options):
        while True:
            result = lifecycle.tick()
            self.stdout.write(" ".join(f"{k}={v}" for k, v in asdict(result).items()))
            if not options["loop"]:
                return
            time.sleep(options["interval"])
