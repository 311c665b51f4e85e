"""The messaging side of the demo world (``manage.py seed_demo``): a message scheduled through
the portal, so the Scheduled page shows what scheduling looks like. Idempotent: a new one is
made only when no scheduled send is waiting."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.models import BearSMSAccount

from .models import Send
from .selectors import scheduled_sends_visible_to
from .services.sending import send_message

DEMO_RECIPIENT = "+628111000101"  # a contact of the sandbox's demo phonebook
DEMO_TEXT = "Reminder: the shop opens at 10:00 tomorrow."


def seed_scheduled_send(*, actor, account: BearSMSAccount) -> Send | None:
    """Schedule the demo message as ``actor`` for tomorrow (the worker submits it with
    ``schedule``, the server holds it); ``None`` when one is already waiting."""
    if scheduled_sends_visible_to(actor).filter(account=account).exists():
        return None
    tomorrow = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    return send_message(
        actor=actor,
        account=account,
        recipients=DEMO_RECIPIENT,
        text=DEMO_TEXT,
        scheduled_for=tomorrow,
        confirmed=True,
    )
