"""BearSMS webservices client (Django-free).

BearSMS is a hosted playSMS 1.4.8. This package speaks its ``index.php?app=ws`` API as the
real server behaves (``/work/shared/bearsms-api.md``), not as its documentation claims.

Usage::

    from bearsms_portal.bearsms import Client, AuthenticationFailed

    client = Client("https://app.bearsms.com", "alice", token)
    [sent] = client.send_message("+628123456789", "hello")
    for row in client.iter_delivery_status(after=cursor):
        ...

One name per thing — op → method:

==================  =======================  ==================  =======================
op                  method                   op                  method
==================  =======================  ==================  =======================
pv                  ``send_message``         inject              ``inject``
ds                  ``delivery_status``      stoplist            ``stoplist_add``
in                  ``incoming``             accountadd          ``account_add``
ix                  ``inbox``                accountremove       ``account_remove``
sx                  ``sandbox``              parentset           ``parent_set``
cr                  ``credit``               parentget           ``parent_get``
get_token           ``get_token``            accountban          ``account_ban``
set_token           ``set_token``            accountunban        ``account_unban``
get_contact         ``get_contact``          accountpref         ``account_pref``
get_contact_group   ``get_contact_group``    accountconf         ``account_conf``
ws_login            ``ws_login_url``         creditview          ``credit_view``
query               ``query``                creditadd           ``credit_add``
\\                                            creditdeduct        ``credit_deduct``
\\                                            loginkeyset         ``login_key_set``
==================  =======================  ==================  =======================

Plus ``call(op, **params)`` for any op (returns the parsed envelope as a dict) and the
trap-safe feed iterators ``iter_delivery_status``, ``iter_incoming``, ``iter_inbox`` and
``iter_sandbox`` (see :mod:`bearsms_portal.bearsms.paging`).

Every exception is importable from here; see :mod:`bearsms_portal.bearsms.errors` for the tree.
"""

from .client import Client, InMemoryAuthGuard
from .errors import *  # noqa: F403 (the exception tree is the public interface)
from .errors import __all__ as _error_names
from .records import (
    AccountAdded,
    AccountStatus,
    AccountSummary,
    AdminResult,
    Contact,
    ContactGroup,
    CreditChange,
    DeliveryStatus,
    InboxMessage,
    IncomingMessage,
    OutgoingMessage,
    ParentInfo,
    SandboxMessage,
    SentMessage,
)

__all__ = [
    "Client",
    "InMemoryAuthGuard",
    "AccountAdded",
    "AccountStatus",
    "AccountSummary",
    "AdminResult",
    "Contact",
    "ContactGroup",
    "CreditChange",
    "DeliveryStatus",
    "InboxMessage",
    "IncomingMessage",
    "OutgoingMessage",
    "ParentInfo",
    "SandboxMessage",
    "SentMessage",
    *_error_names,
]
