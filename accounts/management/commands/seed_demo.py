"""Idempotent demo data for the embedded run (`make run`): prints the URL and the demo logins."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

DEMO_OPERATOR = ("operator", "operator-demo-pass")


class Command(BaseCommand):
    help = "Create (or refresh) the demo world and print how to log in."

    def handle(self, *args, **options):
        logins = [self._operator()]
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"BearSMS Portal: {settings.PORTAL_URL}/"))
        for role, username, password in logins:
            self.stdout.write(f"  {role:<10} {username} / {password}")
        self.stdout.write("")

    def _operator(self):
        username, password = DEMO_OPERATOR
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_password(password)
            user.save()
        return ("operator", username, password)
