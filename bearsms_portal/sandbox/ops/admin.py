"""Admin ops: accounts, parents, bans, preferences, configuration, credit, login keys."""

from __future__ import annotations

from decimal import Decimal

from ..replies import PhpFatal, err, ok
from ..sanitize import php_float
from ..services import accounts
from ..services.accounts import OpError
from .base import Ctx, op


def _failed(error: OpError) -> dict:
    return err(error.code, info=error.info) if error.info else err(error.code)


REQUIRED_NEW = ("data_status", "data_username", "data_password", "data_name", "data_email")


@op(
    "accountadd",
    auth="admin",
    params=(
        *REQUIRED_NEW,
        "data_parent",
        "data_mobile",
        "data_datetime_timezone",
        "data_language_module",
        "data_footer",
    ),
)
def accountadd(ctx: Ctx):
    if any(ctx.get(name) in ("", "0") for name in REQUIRED_NEW):
        return err(603)
    try:
        account = accounts.create_account(
            status=ctx.get("data_status"),
            username=ctx.get("data_username"),
            password=ctx.get("data_password"),
            name=ctx.get("data_name"),
            email=ctx.get("data_email"),
            mobile=ctx.get("data_mobile"),
            parent=ctx.get("data_parent"),
            timezone_=ctx.get("data_datetime_timezone"),
            language=ctx.get("data_language_module"),
            sw=ctx.sw,
        )
    except OpError as error:
        return _failed(error)
    if ctx.sw.accountadd_500 and ctx.app != "webservice":
        raise PhpFatal  # the new-account mail template's undefined constant; account exists
    return ok(info=accounts.added_info(account, ctx.sw))


@op("accountremove", auth="admin", params=("data_username",))
def accountremove(ctx: Ctx):
    try:
        account = accounts.remove_account(ctx.get("data_username"))
    except OpError as error:
        return _failed(error)
    return ok(info=f"Account has been removed (username: {account.username})")


@op("parentset", auth="admin", params=("data_username", "data_parent"))
def parentset(ctx: Ctx):
    try:
        accounts.set_parent(ctx.get("data_username"), ctx.get("data_parent"))
    except OpError as error:
        return _failed(error)
    return ok()


@op("parentget", auth="admin", params=("data_username",))
def parentget(ctx: Ctx):
    try:
        parent = accounts.get_parent(ctx.get("data_username"))
    except OpError as error:
        return _failed(error)
    return ok(parent_uid=parent.pk, parent=parent.username)


@op("accountban", auth="admin", params=("data_username",))
def accountban(ctx: Ctx):
    try:
        accounts.ban(ctx.get("data_username"))
    except OpError as error:
        return _failed(error)
    return ok()


@op("accountunban", auth="admin", params=("data_username",))
def accountunban(ctx: Ctx):
    try:
        accounts.unban(ctx.get("data_username"))
    except OpError as error:
        return _failed(error)
    return ok()


PREF_PARAMS = tuple(f"data_{f}" for f in (*accounts.PREF_FIELDS, "password"))
CONF_PARAMS = tuple(f"data_{f}" for f in accounts.CONF_FIELDS)


@op("accountpref", auth="admin", params=("data_username", *PREF_PARAMS))
def accountpref(ctx: Ctx):
    data = {name[5:]: ctx.get(name) for name in PREF_PARAMS}
    try:
        info = accounts.update_preferences(ctx.get("data_username"), data)
    except OpError as error:
        return _failed(error)
    return ok(info=info)


@op("accountconf", auth="admin", params=("data_username", *CONF_PARAMS))
def accountconf(ctx: Ctx):
    data = {name[5:]: ctx.get(name) for name in CONF_PARAMS if name in ctx.params}
    try:
        accounts.update_configuration(ctx.get("data_username"), data, sw=ctx.sw)
    except OpError as error:
        return _failed(error)
    return ok(info="User configuration has been saved")


@op("creditview", auth="admin", params=("data_username",))
def creditview(ctx: Ctx):
    if not ctx.get("data_username"):
        return err(619)
    try:
        balance = accounts.credit_view(ctx.get("data_username"))
    except OpError as error:
        return _failed(error)
    return ok(balance=balance)


def _credit_change(ctx: Ctx, *, missing: int, invalid: int, sign: int):
    if not ctx.get("data_username"):
        return err(missing)
    amount = php_float(ctx.get("data_amount"))
    if amount == 0:
        return err(invalid)
    if sign < 0:
        amount = -abs(amount)
    balance = accounts.credit_change(ctx.get("data_username"), Decimal(str(amount)), sw=ctx.sw)
    shown = Decimal(str(abs(amount) if sign < 0 else amount))
    return ok(amount=shown, balance=balance)


@op("creditadd", auth="admin", params=("data_username", "data_amount"))
def creditadd(ctx: Ctx):
    return _credit_change(ctx, missing=621, invalid=622, sign=1)


@op("creditdeduct", auth="admin", params=("data_username", "data_amount"))
def creditdeduct(ctx: Ctx):
    return _credit_change(ctx, missing=623, invalid=624, sign=-1)


@op("loginkeyset", auth="admin", params=("data_username",))
def loginkeyset(ctx: Ctx):
    if not ctx.get("data_username"):
        return err(625)
    return ok(login_key=accounts.set_login_key(ctx.get("data_username")))
