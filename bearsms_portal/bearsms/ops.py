"""The webservices ops, in one table: name, client method, authentication, read or write, label.

Every other part of the portal takes op names from here: the client (retries and the
authentication guard), the audit (which actions are reads, their labels), permissions and
views. ``Op`` members are ``str``, so ``Op.ACCOUNTBAN == "accountban"`` and they can be stored
as they are.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["Op", "OpSpec", "OPS", "READ_OPS", "ADMIN_OPS", "FATAL_MEANS_UNKNOWN_USER"]


class Op(enum.StrEnum):
    PV = "pv"
    DS = "ds"
    IN = "in"
    IX = "ix"
    SX = "sx"
    CR = "cr"
    GET_TOKEN = "get_token"  # noqa: S105 (an op name)
    SET_TOKEN = "set_token"  # noqa: S105 (an op name)
    GET_CONTACT = "get_contact"
    GET_CONTACT_GROUP = "get_contact_group"
    WS_LOGIN = "ws_login"
    QUERY = "query"
    STOPLIST = "stoplist"
    INJECT = "inject"
    ACCOUNTADD = "accountadd"
    ACCOUNTREMOVE = "accountremove"
    PARENTSET = "parentset"
    PARENTGET = "parentget"
    ACCOUNTBAN = "accountban"
    ACCOUNTUNBAN = "accountunban"
    ACCOUNTPREF = "accountpref"
    ACCOUNTCONF = "accountconf"
    CREDITVIEW = "creditview"
    CREDITADD = "creditadd"
    CREDITDEDUCT = "creditdeduct"
    LOGINKEYSET = "loginkeyset"


@dataclass(frozen=True, slots=True)
class OpSpec:
    """``method``: the :class:`~bearsms_portal.bearsms.Client` method; ``auth``: ``"user"``
    (token), ``"admin"`` (admin token; ERR 600 on failure), ``"password"`` or ``"none"``;
    ``read``: changes nothing on the server (safe to retry; ``ws_login`` burns its key);
    ``label``: words for people."""

    method: str
    auth: str
    read: bool
    label: str


OPS: dict[Op, OpSpec] = {
    Op.PV: OpSpec("send_message", "user", False, "Send SMS"),
    Op.DS: OpSpec("delivery_status", "user", True, "Delivery status"),
    Op.IN: OpSpec("incoming", "user", True, "Incoming SMS"),
    Op.IX: OpSpec("inbox", "user", True, "Inbox"),
    Op.SX: OpSpec("sandbox", "user", True, "Unhandled incoming SMS"),
    Op.CR: OpSpec("credit", "user", True, "Own credit"),
    Op.GET_TOKEN: OpSpec("get_token", "password", True, "Get token"),
    Op.SET_TOKEN: OpSpec("set_token", "user", False, "New token"),
    Op.GET_CONTACT: OpSpec("get_contact", "user", True, "Find contacts"),
    Op.GET_CONTACT_GROUP: OpSpec("get_contact_group", "user", True, "Find contact groups"),
    Op.WS_LOGIN: OpSpec("ws_login_url", "none", False, "Single sign-on"),
    Op.QUERY: OpSpec("query", "user", True, "Account summary"),
    Op.STOPLIST: OpSpec("stoplist_add", "user", False, "Add to stoplist"),
    Op.INJECT: OpSpec("inject", "admin", False, "Inject incoming SMS"),
    Op.ACCOUNTADD: OpSpec("account_add", "admin", False, "Create account"),
    Op.ACCOUNTREMOVE: OpSpec("account_remove", "admin", False, "Remove account"),
    Op.PARENTSET: OpSpec("parent_set", "admin", False, "Move to reseller"),
    Op.PARENTGET: OpSpec("parent_get", "admin", True, "Check reseller"),
    Op.ACCOUNTBAN: OpSpec("account_ban", "admin", False, "Ban"),
    Op.ACCOUNTUNBAN: OpSpec("account_unban", "admin", False, "Unban"),
    Op.ACCOUNTPREF: OpSpec("account_pref", "admin", False, "Edit profile"),
    Op.ACCOUNTCONF: OpSpec("account_conf", "admin", False, "Edit configuration"),
    Op.CREDITVIEW: OpSpec("credit_view", "admin", True, "Refresh credit"),
    Op.CREDITADD: OpSpec("credit_add", "admin", False, "Add credit"),
    Op.CREDITDEDUCT: OpSpec("credit_deduct", "admin", False, "Deduct credit"),
    Op.LOGINKEYSET: OpSpec("login_key_set", "admin", False, "Log in as"),
}

#: ops that change nothing on the server: safe to retry.
READ_OPS = frozenset(op for op, spec in OPS.items() if spec.read)
#: ops authenticated as administrator (ERR 600 on any auth failure).
ADMIN_OPS = frozenset(op for op, spec in OPS.items() if spec.auth == "admin")
#: admin ops whose database failure (HTTP 200, PHP fatal) means an unknown ``data_username``.
FATAL_MEANS_UNKNOWN_USER = frozenset({Op.CREDITADD, Op.CREDITDEDUCT, Op.LOGINKEYSET})
