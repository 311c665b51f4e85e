"""Factories for BearSMS clients: the only place that reads credentials.

Services get their client here, never by building one themselves, so credentials, timeouts
and the server address come from one place.
"""

from django.conf import settings

from bearsms_portal.bearsms import Client


def admin_client() -> Client:
    """A client acting with the operator (admin) credentials from the environment."""
    return Client(
        settings.BEARSMS_URL,
        settings.BEARSMS_ADMIN_USERNAME,
        settings.BEARSMS_ADMIN_TOKEN,
        timeout=settings.BEARSMS_TIMEOUT,
    )
