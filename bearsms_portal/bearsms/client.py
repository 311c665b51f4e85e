"""The BearSMS client: one method per webservices op (table in the package docstring).

:class:`Client` puts together the parts, each in the module named for what it holds:

- :mod:`.transport`: HTTP exchange, retries, the authentication guard, error mapping;
- :mod:`.sending`: ``pv`` and its destination handling;
- :mod:`.listings`: ``ds``/``in``/``ix``/``sx`` and the trap-safe feed iterators;
- :mod:`.account`: the caller's credit, summary, token, contacts and stoplist;
- :mod:`.admin`: the admin ops.
"""

from __future__ import annotations

from .account import AccountOps
from .admin import AdminOps
from .auth import InMemoryAuthGuard, Secret
from .listings import ListingOps
from .ops import ADMIN_OPS, READ_OPS
from .sending import SendingOps
from .transport import Transport

__all__ = ["Client", "InMemoryAuthGuard", "Secret", "READ_OPS", "ADMIN_OPS"]


class Client(SendingOps, ListingOps, AccountOps, AdminOps, Transport):
    """A BearSMS account's view of the API. See the package docstring for the op table.

    :param base_url: the address before ``/index.php`` (``https://app.bearsms.com``,
        ``http://127.0.0.1:8000/sandbox``).
    :param username: the account (lowercase; the server refuses ``Alice``).
    :param token: the webservices token (``h``); may be ``None`` until :meth:`get_token`.
    :param timeout: seconds for connecting and for reading each answer.
    :param method: ``"POST"`` (default; credentials in the body) or ``"GET"``.
    :param tz_offset: the server's ``gateway_timezone`` (``"+0700"`` as shipped).
    :param server_tz_offset: the server's PHP clock offset; defaults to ``tz_offset`` (a
        consistent deployment). The captures were made with ``"+0000"`` and ``"+0700"``.
    :param account_tz_offset: this account's ``datetime_timezone`` if it has one; defaults to
        ``tz_offset``. The server reads ``schedule`` in it and shifts the times of the
        account's ``in``/``sx``/``ix`` rows back by it (§1.7); negative zones count as +0000.
    :param sender_tz_offsets: ``{username: zone}`` of other accounts with their own zone
        (a mapping; missing or empty means the gateway's): ``@user`` inbox rows are shifted
        by the *sender's* zone.
    :param format: ``"json"`` (default; XML loses any text containing ``&``), ``"xml"`` or
        ``"serialize"``.
    :param destinations_per_request: how many ``pv`` destinations to join with commas in one
        request. Keep 1 for playSMS 1.4.8, which mangles lists into one bogus number.
    :param retries: extra attempts for reads after a transport fault or HTTP 5xx.
    :param backoff: base delay in seconds (full jitter, doubled per attempt).
    :param backoff_max: cap of one delay.
    :param page_size: ``c`` used by the ``iter_*`` methods.
    :param auth_guard: fail-fast store (default: one per process).
    :param session: a ``requests.Session`` to use instead of a new pooled one.
    """
