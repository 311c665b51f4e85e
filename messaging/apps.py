from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging"

    def ready(self):
        from bearsms_portal import health

        from . import checks, tasks  # noqa: F401  (tasks: registered wherever Django runs)

        health.register("sync", checks.sync_health)
