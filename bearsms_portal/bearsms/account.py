"""The caller's own account: credit, summary, token, single sign-on, contacts, stoplist."""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from . import errors as e
from . import wire
from .records import AccountStatus, AccountSummary, ContactGroupRow, ContactRow

__all__ = ["AccountOps"]


class AccountOps:
    """User-level ops; mixed into :class:`~bearsms_portal.bearsms.Client`."""

    def credit(self) -> Decimal:
        """``cr``: the caller's cached credit (``"0"`` at zero; stale until the server's
        recalculation, and never refreshed for non-admins on an unpatched 1.4.8)."""
        envelope = self._ok("cr", {})
        return self._record(
            "cr", lambda env: wire.as_decimal(env.get("credit"), field="credit"), envelope
        )

    def query(self) -> AccountSummary:
        """``query``: the caller's account and the highest id of each of its feeds."""
        envelope = self._ok("query", {})
        return self._record("query", self._summary, envelope)

    @staticmethod
    def _summary(envelope: dict[str, Any]) -> AccountSummary:
        data = envelope["data"]
        user, last_id = data["user"], data.get("last_id") or {}
        status = wire.as_int(user["status"], field="status")
        with contextlib.suppress(ValueError):
            status = AccountStatus(status)
        return AccountSummary(
            username=wire.as_str(user.get("username")),
            uid=wire.as_int(user["uid"], field="uid"),
            status=status,
            name=wire.as_str(user.get("name")),
            email=wire.as_str(user.get("email")),
            mobile=wire.as_str(user.get("mobile")),
            credit=wire.as_decimal(user.get("credit"), field="credit"),
            last_inbox_id=wire.as_int(last_id.get("user_inbox") or 0, field="user_inbox"),
            last_incoming_id=wire.as_int(last_id.get("user_incoming") or 0, field="user_incoming"),
            last_outgoing_id=wire.as_int(last_id.get("user_outgoing") or 0, field="user_outgoing"),
            raw=data,
        )

    def get_token(self, password: str) -> str:
        """``get_token``: log in with the account password; returns the **existing** token
        and makes this client use it. 104/105/106 mean an admin must create a token, enable
        webservices or allow the IP in the web UI. A wrong password counts toward the IP
        lockout, so the same password is not tried twice (:class:`AuthBlocked`)."""
        envelope = self._ok("get_token", {"p": password})
        token = wire.as_str(envelope.get("token"))
        if not token:
            raise e.MalformedResponse(None, "get_token", "no token in the answer")
        self.token = token
        return token

    def set_token(self) -> str:
        """``set_token``: mint a new token (the old one dies at once); this client switches
        to it and it is returned — store it before doing anything else."""
        envelope = self._ok("set_token", {})
        token = wire.as_str(envelope.get("token"))
        if not token:
            raise e.MalformedResponse(None, "set_token", "no token in the answer")
        self.token = token
        return token

    def ws_login_url(self, username: str, login_key: str) -> str:
        """The single sign-on URL for ``ws_login`` (no request is made).

        Open it in the end user's browser (the session cookie belongs to the BearSMS
        domain). The key is single-use and burnt by any attempt; mint one per login with
        :meth:`login_key_set`. The URL contains the key: do not log it.
        """
        query = urlencode({"app": "ws", "op": "ws_login", "u": username, "login_key": login_key})
        return f"{self.endpoint}?{query}"

    # --- contacts -----------------------------------------------------------------------------

    def get_contact(self, kwd: str, *, c: int | None = None) -> list[ContactRow]:
        """``get_contact``: phonebook search (substring of name, number, email, tags; at
        least 2 characters). ``c`` ≤ 0 or ``None`` = no limit. No match → ``[]``."""
        return self._listing("get_contact", self._contact, False, kwd=kwd, c=c)

    @staticmethod
    def _contact(row: dict[str, Any]) -> ContactRow:
        return ContactRow(
            pid=wire.as_int(row["pid"], field="pid"),
            name=wire.as_str(row.get("p_desc")),
            mobile=wire.as_str(row.get("p_num")),
            email=wire.as_str(row.get("email")),
            tags=wire.as_str(row.get("tags")),
            raw=row,
        )

    def get_contact_group(self, kwd: str, *, c: int | None = None) -> list[ContactGroupRow]:
        """``get_contact_group``: groups whose name or code contains ``kwd`` (≥ 2 chars)."""
        return self._listing("get_contact_group", self._group, False, kwd=kwd, c=c)

    @staticmethod
    def _group(row: dict[str, Any]) -> ContactGroupRow:
        return ContactGroupRow(
            gpid=wire.as_int(row["gpid"], field="gpid"),
            name=wire.as_str(row.get("group_name")),
            code=wire.as_str(row.get("code")),
            flag_sender=wire.as_int(row.get("flag_sender") or 0, field="flag_sender"),
            raw=row,
        )

    # --- user-level writes --------------------------------------------------------------------

    def stoplist_add(self, number: str) -> None:
        """``stoplist``: add ``number`` to the server's global stoplist (any valid user token
        may). :class:`DuplicateStoplist` (627) if the exact string is already there. The
        server strips a leading ``+`` before storing, but checks duplicates before that."""
        if not str(number).strip():
            raise ValueError("number is required")
        self._ok("stoplist", {"from": number})
