"""The caller's own account: `cr`, `query`, `get_token`, `set_token`, `ws_login` (and the
`credit` plugin pseudo-op)."""

from __future__ import annotations

import secrets

from .. import selectors
from ..models import WebSession
from ..replies import Raw, Redirect, err, ok
from ..services import accounts, auth
from .base import Ctx, credit_value, op


@op("cr", auth="user")
def cr(ctx: Ctx):
    return ok(credit=credit_value(ctx.user.credit))


@op("query", auth="user")
def query(ctx: Ctx):
    user = ctx.user
    return ok(
        data={
            "user": {
                "username": user.username,
                "uid": user.pk,
                "status": int(user.status),
                "name": user.name,
                "email": user.email,
                "mobile": user.mobile,
                "credit": credit_value(user.credit),
            },
            "last_id": selectors.last_ids(user),
        }
    )


@op("get_token", auth="none", params=("p",))
def get_token(ctx: Ctx):
    try:
        token = auth.get_token(u=ctx.get("u"), p=ctx.get("p"), ip=ctx.ip, sw=ctx.sw)
    except auth.AuthFailed:
        return err(100)
    except auth.TokenRefused as refused:
        return err(refused.code)
    return ok(token=token)


@op("set_token", auth="user")
def set_token(ctx: Ctx):
    return ok(token=auth.set_token(ctx.user))


@op("ws_login", auth="none", params=("login_key",))
def ws_login(ctx: Ctx):
    account = accounts.ws_login(ctx.get("u"), ctx.get("login_key"))
    if account is None:
        return Redirect("index.php")
    session = WebSession.objects.create(session_id=secrets.token_hex(13), user=account)
    return Redirect("index.php", session_id=session.session_id)


@op("credit", auth="none")
def credit_plugin(ctx: Ctx):
    """The credit plugin's pseudo-op: only a logged-in web session sees a real figure."""
    return Raw(status=200, body="0.00", content_type="text/plain; charset=utf-8")
