"""The op registry and the per-request context every op receives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ..models import SandboxUser
from ..profiles import Switches
from ..replies import Raw, Redirect

Reply = dict | Raw | Redirect


@dataclass
class Ctx:
    params: dict[str, str]
    arrays: set[str]
    ip: str
    now: datetime
    sw: Switches
    app: str = "ws"
    user: SandboxUser | None = None

    def get(self, name: str) -> str:
        return self.params.get(name, "")

    def db_int(self, value):
        """A DB-sourced id/status: an int on PHP >= 8.1, a string before."""
        if value is None:
            return None
        return int(value) if self.sw.native_ints else str(value)


@dataclass(frozen=True)
class Op:
    name: str
    func: Callable[[Ctx], Reply]
    auth: str  # "user", "admin" or "none"
    params: tuple[str, ...] = ()


REGISTRY: dict[str, Op] = {}


def op(name: str, *, auth: str, params: tuple[str, ...] = ()):
    """Register an op implementation under its wire name."""

    def register(func: Callable[[Ctx], Reply]):
        REGISTRY[name] = Op(name=name, func=func, auth=auth, params=params)
        return func

    return register


def credit_value(amount: Decimal):
    """`cr` / `query` credit: the string "0" at zero, a number otherwise."""
    return "0" if amount == 0 else Decimal(amount)
