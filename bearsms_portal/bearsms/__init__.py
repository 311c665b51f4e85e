"""BearSMS webservices client (Django-free).

BearSMS is a hosted playSMS 1.4.8. This package speaks its ``index.php?app=ws`` API as the
real server behaves (``shared/bearsms-api.md``), not as its documentation claims.

Usage::

    from bearsms_portal.bearsms import Client, AuthenticationFailed

    client = Client("https://app.bearsms.com", "alice", token)
    [sent] = client.send_message("+628123456789", "hello")
    for row in client.iter_delivery_status(after=cursor):
        ...

One name per thing — op → method (use the same words in services, URLs and templates; the
same table is :data:`~bearsms_portal.bearsms.ops.OPS`, which the portal imports):

=================  ========================  =====  ===================================
op                 method                    auth   returns
=================  ========================  =====  ===================================
pv                 ``send_message``          user   ``list[SentMessage]``
ds                 ``delivery_status``       user   ``list[DeliveryRow]``
in                 ``incoming``              user   ``list[IncomingRow]``
ix                 ``inbox``                 user   ``list[InboxRow]``
sx                 ``sandbox``               user   ``list[SandboxRow]`` (admins)
cr                 ``credit``                user   ``Decimal``
get_token          ``get_token``             pass   ``str`` (the client switches to it)
set_token          ``set_token``             user   ``str`` (the client switches to it)
get_contact        ``get_contact``           user   ``list[ContactRow]``
get_contact_group  ``get_contact_group``     user   ``list[ContactGroupRow]``
ws_login           ``ws_login_url``          —      ``str`` (builds the URL, no request)
query              ``query``                 user   ``AccountSummary``
stoplist           ``stoplist_add``          user   ``None``
inject             ``inject``                admin  ``None``
accountadd         ``account_add``           admin  ``AccountAdded``
accountremove      ``account_remove``        admin  ``AdminResult``
parentset          ``parent_set``            admin  ``AdminResult``
parentget          ``parent_get``            admin  ``ParentInfo``
accountban         ``account_ban``           admin  ``AdminResult``
accountunban       ``account_unban``         admin  ``AdminResult``
accountpref        ``account_pref``          admin  ``AdminResult``
accountconf        ``account_conf``          admin  ``AdminResult``
creditview         ``credit_view``           admin  ``Decimal``
creditadd          ``credit_add``            admin  ``CreditChange``
creditdeduct       ``credit_deduct``         admin  ``CreditChange``
loginkeyset        ``login_key_set``         admin  ``str`` (a single-use login key)
=================  ========================  =====  ===================================

Plus ``account_exists(username)`` (the ``parentget`` probe), ``call(op, **params)`` for any
op (returns the parsed envelope as a dict) and the trap-safe feed iterators
``iter_delivery_status``, ``iter_incoming``, ``iter_inbox`` and ``iter_sandbox`` (see
:mod:`bearsms_portal.bearsms.paging`).

Every exception is importable from here; see :mod:`bearsms_portal.bearsms.errors` for the tree.
"""

from .client import Client, InMemoryAuthGuard
from .errors import *  # noqa: F403 (the exception tree is the public interface)
from .errors import __all__ as _error_names
from .ops import ADMIN_OPS, OPS, READ_OPS, Op
from .records import (
    AccountAdded,
    AccountStatus,
    AccountSummary,
    AdminResult,
    ContactGroupRow,
    ContactRow,
    CreditChange,
    DeliveryRow,
    DeliveryStatus,
    InboxRow,
    IncomingRow,
    ParentInfo,
    SandboxRow,
    SentMessage,
)

__all__ = [
    "Client",
    "Op",
    "OPS",
    "READ_OPS",
    "ADMIN_OPS",
    "InMemoryAuthGuard",
    "AccountAdded",
    "AccountStatus",
    "AccountSummary",
    "AdminResult",
    "ContactRow",
    "ContactGroupRow",
    "CreditChange",
    "DeliveryStatus",
    "InboxRow",
    "IncomingRow",
    "DeliveryRow",
    "ParentInfo",
    "SandboxRow",
    "SentMessage",
    *_error_names,
]
