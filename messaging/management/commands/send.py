"""``python manage.py send --as ACCOUNT --to ... --text ... [--schedule ISO] [--file F]``

Sends a message as a linked account for scripts, through the same services as the pages
(permission, checks, one row per destination, audit). ``--user`` is the portal user who sends
(default: the portal user of that account). ``--file`` sends to every good row of a CSV/XLSX
(the number column is guessed as on the bulk page; ``{column}`` fields work in ``--text``).
The destinations are submitted right away by this process (the queued Celery task finds
nothing left to do); ``--no-wait`` leaves the submission to the workers.

    python manage.py send --as acme --to "+14155550100, +14155550101" --text "Hello"
    python manage.py send --as acme --to "#staff" --text "Meeting at 10" \\
        --schedule 2027-01-05T09:30+01:00
    python manage.py send --as acme --file customers.csv --text "Hi {name}" --user ops \\
        --schedule 2027-01-05T09:30
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.errors import ServiceError
from accounts.models import BearSMSAccount
from accounts.zones import time_zone_of
from messaging.models import Send, SendDestination
from messaging.selectors import send_summary
from messaging.services import bulk, sending


class Command(BaseCommand):
    help = "Send an SMS as a linked BearSMS account (the same services as the compose page)."

    def add_arguments(self, parser):
        parser.add_argument("--as", dest="account", required=True, help="the account's username")
        parser.add_argument("--to", default="", help="numbers, @username, #groupcode")
        parser.add_argument("--text", required=True, help="the message ({column} with --file)")
        parser.add_argument("--file", help="a CSV or XLSX of recipients")
        parser.add_argument(
            "--schedule",
            help="ISO date-time; without an offset it is read in the user's time zone",
        )
        parser.add_argument("--sender", default="", help="sender ID")
        parser.add_argument("--no-footer", action="store_true", help="leave the footer off")
        parser.add_argument("--flash", action="store_true", help="send as flash SMS")
        parser.add_argument("--user", help="the portal user who sends (default: the account's)")
        parser.add_argument(
            "--yes", action="store_true", help="send despite warnings (sender ID, balance)"
        )
        parser.add_argument("--no-wait", action="store_true", help="leave it to the workers")

    def handle(self, *args, **options):
        account = self._account(options["account"])
        actor = self._actor(options["user"], account)
        if bool(options["to"]) == bool(options["file"]):
            raise CommandError("give either --to or --file")
        schedule = self._schedule(options["schedule"], actor)
        try:
            if options["file"]:
                send = self._file_send(actor, account, options, schedule)
            else:
                send = sending.send_message(
                    actor=actor,
                    account=account,
                    recipients=options["to"],
                    text=options["text"],
                    sender=options["sender"],
                    footer=not options["no_footer"],
                    flash=options["flash"],
                    scheduled_for=schedule,
                    scheduled_zone=str(schedule.tzinfo) if schedule else "",
                    confirmed=options["yes"],
                    source=Send.Source.COMMAND,
                )
        except sending.NeedsConfirmation as exc:
            raise CommandError(" ".join(exc.warnings) + " Add --yes to send anyway.") from exc
        except sending.BadRecipients as exc:
            lines = [f"  {e.entered}: {e.reason}" for e in exc.entries]
            raise CommandError("bad recipients:\n" + "\n".join(lines)) from exc
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        except PermissionDenied as exc:
            raise CommandError(f"{actor} may not send as {account}") from exc
        self.stdout.write(f"send #{send.pk}: {send.destinations_total} destination(s) queued")
        if options["no_wait"]:
            return
        sending.submit_send(send_id=send.pk)
        self._report(send)

    def _account(self, username: str) -> BearSMSAccount:
        try:
            return BearSMSAccount.objects.get(username=username)
        except BearSMSAccount.DoesNotExist:
            raise CommandError(f"no account {username!r} in the portal") from None

    def _actor(self, username: str | None, account: BearSMSAccount):
        users = get_user_model().objects
        if username:
            try:
                return users.get(username=username, is_active=True)
            except users.model.DoesNotExist:
                raise CommandError(f"no active portal user {username!r}") from None
        own = users.filter(portal_profile__account=account, is_active=True).first()
        if own is None:
            raise CommandError(f"{account} has no portal user: name the sender with --user")
        return own

    def _schedule(self, value: str | None, actor) -> datetime | None:
        if not value:
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise CommandError(f"--schedule {value!r} is not an ISO date-time") from None
        if timezone.is_naive(moment):
            moment = moment.replace(tzinfo=time_zone_of(actor))
        return moment

    def _file_send(self, actor, account, options, schedule: datetime | None) -> Send:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no file {path}")
        with path.open("rb") as handle:
            upload = File(handle, name=path.name)
            upload.size = path.stat().st_size
            recipient_file = bulk.recipient_file_upload(actor=actor, account=account, upload=upload)
        recipient_file = bulk.recipient_file_map(
            actor=actor,
            recipient_file=recipient_file,
            header=recipient_file.header,
            number_column=recipient_file.number_column,
            text=options["text"],
            sender=options["sender"],
            footer=not options["no_footer"],
            flash=options["flash"],
        )
        bulk.recipient_file_check(file_id=recipient_file.pk)
        recipient_file.refresh_from_db()
        if recipient_file.rows_bad:
            self.stdout.write(f"{recipient_file.rows_bad} bad row(s) left out:")
            for row in bulk.bad_rows(recipient_file)[:20]:
                self.stdout.write(f"  row {row.row}: {row.value!r}: {row.reason}")
        return bulk.bulk_send_start(
            actor=actor,
            recipient_file=recipient_file,
            scheduled_for=schedule,
            scheduled_zone=str(schedule.tzinfo) if schedule else "",
        )

    def _report(self, send: Send) -> None:
        summary = send_summary(send)
        parts = [f"{summary[s]} {label.lower()}" for s, label in SendDestination.State.choices]
        self.stdout.write(", ".join(p for p in parts if not p.startswith("0 ")))
        refused = send.destinations.filter(state=SendDestination.State.REFUSED)
        for destination in refused[:20]:
            self.stdout.write(f"  {destination.address}: {destination.reason}")
