from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The project itself: its static files, and the Celery app loaded where Django starts.

    Loading Celery here (not in ``bearsms_portal/__init__.py``) keeps ``import
    bearsms_portal.bearsms`` free of Django and Celery; ``@shared_task`` then binds to the
    configured app in every Django process (web, management commands, tests).
    """

    name = "bearsms_portal"
    label = "portal"
    verbose_name = "BearSMS Portal"

    def ready(self):
        from . import celery  # noqa: F401 (sets the configured Celery app as current)
