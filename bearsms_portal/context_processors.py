"""Template context shared by every page."""

from django.conf import settings


def portal(request):
    return {"sandbox_enabled": settings.SANDBOX_ENABLED}
