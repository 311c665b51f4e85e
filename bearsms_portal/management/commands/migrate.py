"""``migrate``, preceded by the embedded run's folders and saved secrets (see ``embedded``)."""

from django.core.management.commands.migrate import Command as MigrateCommand

from bearsms_portal import embedded


class Command(MigrateCommand):
    def execute(self, *args, **options):
        # before the system checks: they open the first connection (the SQLite file's folder)
        embedded.prepare()
        return super().execute(*args, **options)
