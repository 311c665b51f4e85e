"""Idempotent demo data for the embedded run (`make run`): prints the URL and the demo logins."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from accounts.demo import DEMO_RESELLER, seed_demo_logins, seed_sandbox
from accounts.models import PortalProfile

DEMO_OPERATOR = ("operator", "operator-demo-pass")


class Command(BaseCommand):
    help = "Create (or refresh) the demo world and print how to log in."

    def handle(self, *args, **options):
        logins = [self._operator()]
        if settings.SANDBOX_ENABLED:
            logins += self._sandbox_world()
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"BearSMS Portal: {settings.PORTAL_URL}/"))
        for role, username, password in logins:
            self.stdout.write(f"  {role:<10} {username} / {password}")
        self.stdout.write("")

    def _sandbox_world(self):
        """Seed the built-in sandbox, then mirror its accounts and add the demo logins."""
        seed_sandbox()
        logins = seed_demo_logins()
        self._scheduled_send()
        return [
            (role, username, f"{password}  (BearSMS account {account})")
            for role, username, password, account in logins
        ]

    def _scheduled_send(self):
        """A message the demo reseller scheduled through the portal (the Scheduled page)."""
        from messaging.demo import seed_scheduled_send

        reseller = PortalProfile.objects.filter(user__username=DEMO_RESELLER[0]).first()
        if reseller is not None and reseller.account is not None:
            seed_scheduled_send(actor=reseller.user, account=reseller.account)

    def _operator(self):
        username, password = DEMO_OPERATOR
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_password(password)
            user.save()
        return ("operator", username, password)
