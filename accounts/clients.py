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


class AccountNotLinked(Exception):
    """The portal holds no token for this account yet (see the account's ``link_error``)."""

    def __init__(self, username: str, reason: str = ""):
        self.username = username
        self.reason = reason
        detail = f": {reason}" if reason else ""
        super().__init__(f"BearSMS account {username!r} is not linked{detail}")


def client_for(account) -> Client:
    """A client acting as ``account`` with its own token. Raises ``AccountNotLinked``."""
    if not account.is_linked:
        raise AccountNotLinked(account.username, account.link_error)
    return Client(
        settings.BEARSMS_URL,
        account.username,
        account.reveal_token(),
        timeout=settings.BEARSMS_TIMEOUT,
    )


def client_for_username(username: str) -> Client:
    """A client for a local account by username; the admin username gives ``admin_client()``.

    Raises ``BearSMSAccount.DoesNotExist`` for an unknown username and ``AccountNotLinked``
    when the portal holds no token for it.
    """
    from .models import BearSMSAccount

    try:
        account = BearSMSAccount.objects.get(username=username)
    except BearSMSAccount.DoesNotExist:
        if username == settings.BEARSMS_ADMIN_USERNAME:
            return admin_client()
        raise
    if username == settings.BEARSMS_ADMIN_USERNAME and not account.is_linked:
        return admin_client()
    return client_for(account)


def client_without_token(username: str) -> Client:
    """A client for ops that take no token (``get_token``, ``ws_login_url``)."""
    return Client(settings.BEARSMS_URL, username, None, timeout=settings.BEARSMS_TIMEOUT)
