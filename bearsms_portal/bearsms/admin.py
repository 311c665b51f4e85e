"""Admin ops: accounts, parents, bans, profile and configuration, credit, login keys."""

from __future__ import annotations

import re
from decimal import Decimal

from . import errors as e
from . import wire
from .records import AccountAdded, AccountStatus, AdminResult, CreditChange, ParentInfo

__all__ = ["AdminOps"]

_USERNAME_IN_INFO = re.compile(r"\(username: ([^)]*)\)")


class AdminOps:
    """Ops authenticated as administrator; mixed into :class:`~bearsms_portal.bearsms.Client`."""

    def _admin(self, op: str, params: dict) -> AdminResult:
        """An admin write that answers ``status: OK`` and the server's sentence."""
        envelope = self._ok(op, params)
        return AdminResult(info=wire.as_str(envelope.get("info")))

    def inject(
        self, sender: str, message: str, *, recvnum: str | None = None, smsc: str | None = None
    ) -> None:
        """``inject`` (admin): simulate an incoming SMS from ``sender``. Processed
        asynchronously (1–5 s); it lands in the keyword owner's ``in`` or in ``sx``. No id."""
        self._ok("inject", {"from": sender, "msg": message, "recvnum": recvnum, "smsc": smsc})

    def account_add(
        self,
        *,
        username: str,
        password: str,
        name: str,
        email: str,
        status: AccountStatus | int,
        parent: str | None = None,
        mobile: str | None = None,
        timezone: str | None = None,
        language: str | None = None,
        verify: bool = True,
    ) -> AccountAdded:
        """``accountadd`` (admin). Returns the username the server stored (it lowercases and
        filters it: ``Bob Smith`` → ``bobsmith``).

        ``status`` 2 admin, 3 user, anything else a subaccount; ``parent`` is honoured only
        for subaccounts. On PHP 8 a successful add answers HTTP 500 (the account exists):
        with ``verify`` the client then checks with ``parentget`` (a read) and returns
        ``verified=True``, or raises :class:`OutcomeUnknown` if it cannot tell. The new
        account cannot use the API until webservices are enabled in the web UI.
        Errors: :class:`AccountAddFailed` (604, reason in ``info``), :class:`MissingData`.
        """
        params = {
            "data_status": int(status),
            "data_username": username,
            "data_password": password,
            "data_name": name,
            "data_email": email,
            "data_parent": parent,
            "data_mobile": mobile,
            "data_datetime_timezone": timezone,
            "data_language_module": language,
        }
        stored = re.sub(r"[^a-z0-9._-]", "", username.lower())
        try:
            envelope = self._ok("accountadd", params)
        except e.OutcomeUnknown as exc:
            if not verify or getattr(exc, "http_status", None) is None:
                raise
            try:
                exists = self.account_exists(stored)
            except e.BearSMSError:
                raise exc from None
            if exists:
                return AccountAdded(
                    info="Account has been added (confirmed after HTTP 500)",
                    username=stored,
                    verified=True,
                )
            raise
        info = wire.as_str(envelope.get("info"))
        match = _USERNAME_IN_INFO.search(info)
        return AccountAdded(info=info, username=match.group(1) if match else stored)

    def account_exists(self, username: str) -> bool:
        """Does ``username`` exist on the server? Asked with ``parentget`` (a read): an answer
        or :class:`NoParent` (610) means yes, :class:`UnknownUser` (609) no; any other error
        propagates (the question stays open)."""
        try:
            self.parent_get(username)
        except e.NoParent:
            return True
        except e.UnknownUser:
            return False
        return True

    def account_remove(self, username: str) -> AdminResult:
        """``accountremove`` (admin): soft-delete; its token stops working at once.
        :class:`UnknownUser` (605), :class:`AccountRemoveRefused` (606: uid 1, or it still
        has subaccounts)."""
        return self._admin("accountremove", {"data_username": username})

    def parent_set(self, username: str, parent: str) -> AdminResult:
        """``parentset`` (admin): make ``username`` a subaccount of ``parent`` (a status-3
        user). The child becomes status 4 whatever it was. :class:`ParentUnchanged` (608)
        when the parent is not a user or nothing changed; :class:`UnknownUser` (607)."""
        return self._admin("parentset", {"data_username": username, "data_parent": parent})

    def parent_get(self, username: str) -> ParentInfo:
        """``parentget`` (admin): :class:`NoParent` (610) for accounts that are not
        subaccounts, :class:`UnknownUser` (609)."""
        envelope = self._ok("parentget", {"data_username": username})
        return self._record(
            "parentget",
            lambda env: ParentInfo(
                parent_uid=wire.as_int(env["parent_uid"], field="parent_uid"),
                parent=wire.as_str(env.get("parent")),
            ),
            envelope,
        )

    def account_ban(self, username: str) -> AdminResult:
        """``accountban`` (admin); banning again is OK. Subaccounts of a banned account are
        blocked too. :class:`BanRefused` (612, uid 1), :class:`UnknownUser` (611)."""
        return self._admin("accountban", {"data_username": username})

    def account_unban(self, username: str) -> AdminResult:
        """``accountunban`` (admin). :class:`NotBanned` (614) if it was not banned,
        :class:`UnknownUser` (613)."""
        return self._admin("accountunban", {"data_username": username})

    def account_pref(
        self,
        username: str,
        *,
        name: str | None = None,
        email: str | None = None,
        mobile: str | None = None,
        address: str | None = None,
        city: str | None = None,
        state: str | None = None,
        country: int | None = None,
        zipcode: str | None = None,
        password: str | None = None,
    ) -> AdminResult:
        """``accountpref`` (admin): profile fields; empty values are ignored by the server
        (a field cannot be cleared). ``country`` is a numeric id (text makes the server's
        DB fail). :class:`MissingData` (615), :class:`AccountPrefFailed` (616, ``info``)."""
        if country is not None and not isinstance(country, int):
            raise ValueError("country must be a numeric id")
        params = {
            "data_username": username,
            "data_name": name,
            "data_email": email,
            "data_mobile": mobile,
            "data_address": address,
            "data_city": city,
            "data_state": state,
            "data_country": country,
            "data_zipcode": zipcode,
            "data_password": password,
        }
        return self._admin("accountpref", params)

    def account_conf(
        self,
        username: str,
        *,
        footer: str,
        sender: str,
        timezone: str | None = None,
        language: str | None = None,
        fwd_to_inbox: bool | None = None,
        fwd_to_email: bool | None = None,
        fwd_to_mobile: bool | None = None,
        local_length: int | None = None,
        replace_zero: str | None = None,
    ) -> AdminResult:
        """``accountconf`` (admin): account configuration.

        ``footer`` and ``sender`` are required because the server **clears** them whenever
        they are omitted: pass the current values to keep them, ``""`` to clear. ``sender``
        must be a sender ID registered to the account (:class:`AccountConfFailed` 618
        ``Invalid sender ID``). ``timezone`` as ``+HHMM`` (negative counts as +0000).
        """
        params = {
            "data_username": username,
            "data_footer": footer,
            "data_sender": sender,
            "data_datetime_timezone": timezone,
            "data_language_module": language,
            "data_fwd_to_inbox": fwd_to_inbox,
            "data_fwd_to_email": fwd_to_email,
            "data_fwd_to_mobile": fwd_to_mobile,
            "data_local_length": local_length,
            "data_replace_zero": replace_zero,
        }
        return self._admin("accountconf", params)

    def credit_view(self, username: str) -> Decimal:
        """``creditview`` (admin): the account's cached balance. The server refuses a
        balance of exactly zero with :class:`ZeroCredit` (620), which it also answers for an
        unknown user."""
        envelope = self._ok("creditview", {"data_username": username})
        return self._record(
            "creditview", lambda env: wire.as_decimal(env.get("balance"), field="balance"), envelope
        )

    def _credit_change(self, op: str, username: str, amount: Decimal | int | str) -> CreditChange:
        try:
            value = Decimal(str(amount).strip())
        except ArithmeticError:
            raise ValueError("amount must be a positive number") from None
        if not value.is_finite() or value <= 0:
            raise ValueError("amount must be a positive number")
        envelope = self._ok(op, {"data_username": username, "data_amount": value})
        return self._record(
            op,
            lambda env: CreditChange(
                amount=wire.as_decimal(env.get("amount"), field="amount"),
                balance=wire.as_optional_decimal(env.get("balance"), field="balance"),
            ),
            envelope,
        )

    def credit_add(self, username: str, amount: Decimal | int | str) -> CreditChange:
        """``creditadd`` (admin): add a positive ``amount`` to the account's ledger. The
        returned ``balance`` is the stale pre-change figure. An unknown user makes the server
        fail (:class:`UnknownUserFatal`)."""
        return self._credit_change("creditadd", username, amount)

    def credit_deduct(self, username: str, amount: Decimal | int | str) -> CreditChange:
        """``creditdeduct`` (admin): deduct a positive ``amount`` (no floor at zero)."""
        return self._credit_change("creditdeduct", username, amount)

    def login_key_set(self, username: str) -> str:
        """``loginkeyset`` (admin): a fresh single-use 32-hex login key for
        :meth:`ws_login_url` (replaces any earlier key). Unknown user →
        :class:`UnknownUserFatal`."""
        envelope = self._ok("loginkeyset", {"data_username": username})
        key = wire.as_str(envelope.get("login_key"))
        if not key:
            raise e.MalformedResponse(None, "loginkeyset", "no login_key in the answer")
        return key
