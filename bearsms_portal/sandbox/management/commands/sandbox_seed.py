"""Seed the sandbox's demo world (idempotent); ``--messages N`` adds N outgoing rows fast."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand

from bearsms_portal.sandbox.services import demo


class Command(BaseCommand):
    help = "Create the sandbox demo world: admin, two resellers with subaccounts, traffic."

    def add_arguments(self, parser):
        parser.add_argument(
            "--admin-token",
            default=None,
            help="the admin's webservices token (default BEARSMS_ADMIN_TOKEN)",
        )
        parser.add_argument(
            "--messages",
            type=int,
            default=0,
            help="also bulk-insert N dispatched outgoing messages",
        )
        parser.add_argument(
            "--messages-user",
            default=None,
            help="the account that owns the bulk messages (default: admin)",
        )

    def handle(self, *args, **options):
        started = time.monotonic()
        result = demo.seed(
            admin_username=settings.BEARSMS_ADMIN_USERNAME,
            admin_token=options["admin_token"] or settings.BEARSMS_ADMIN_TOKEN,
            messages=options["messages"],
            messages_user=options["messages_user"],
        )
        elapsed = time.monotonic() - started
        if options["verbosity"] < 1:
            return
        created = ", ".join(result.created) or "none (already there)"
        self.stdout.write(f"sandbox accounts created: {created}")
        self.stdout.write(f"demo accounts log in to the sandbox with password {demo.DEMO_PASSWORD}")
        self.stdout.write(f"demo traffic: {'added' if result.traffic else 'already there'}")
        if result.bulk:
            self.stdout.write(f"bulk outgoing rows: {result.bulk} in {elapsed:.1f} s")
