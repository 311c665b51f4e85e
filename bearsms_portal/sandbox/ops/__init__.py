"""All 26 ops, one module per area, dispatched by wire name.

Validation order as on the real server: array parameters (PHP 8 fatal) → authentication (100 for
user ops, 600 for admin ops) → the op's own checks.
"""

from __future__ import annotations

from ..replies import UNKNOWN_OP, PhpFatal, err
from ..services import auth
from . import account, admin, messaging, phonebook  # noqa: F401  (register the ops)
from .base import REGISTRY, Ctx, Reply

__all__ = ["REGISTRY", "Ctx", "dispatch"]


def dispatch(ctx: Ctx, name: str) -> Reply:
    spec = REGISTRY.get(name)
    if spec is None:
        return UNKNOWN_OP
    if ctx.arrays & {"u", "h", *spec.params} and ctx.sw.php8:
        raise PhpFatal  # trim() on an array
    if spec.auth in ("user", "admin"):
        authenticate = auth.authenticate_admin if spec.auth == "admin" else auth.authenticate_token
        try:
            ctx.user = authenticate(u=ctx.get("u"), h=ctx.get("h"), ip=ctx.ip, sw=ctx.sw)
        except auth.AuthFailed:
            return err(600 if spec.auth == "admin" else 100)
    return spec.func(ctx)
