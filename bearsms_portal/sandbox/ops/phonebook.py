"""Phonebook look-ups: `get_contact` and `get_contact_group` (status always OK; no match → null)."""

from __future__ import annotations

from ..replies import ok
from ..sanitize import php_int
from ..services import phonebook
from .base import Ctx, op


def _limit(ctx: Ctx) -> int | None:
    c = php_int(ctx.get("c"))
    return c if c > 0 else None


@op("get_contact", auth="user", params=("kwd", "c"))
def get_contact(ctx: Ctx):
    contacts = phonebook.search_contacts(ctx.user, ctx.get("kwd"), limit=_limit(ctx))
    rows = [
        {
            "pid": ctx.db_int(c.pk),
            "p_desc": c.name,
            "p_num": c.mobile,
            "email": c.email,
            "tags": c.tags,
        }
        for c in contacts
    ]
    return ok(data=rows or None)


@op("get_contact_group", auth="user", params=("kwd", "c"))
def get_contact_group(ctx: Ctx):
    groups = phonebook.search_groups(ctx.user, ctx.get("kwd"), limit=_limit(ctx))
    rows = [
        {
            "gpid": ctx.db_int(g.pk),
            "group_name": g.name,
            "code": g.code,
            "flag_sender": ctx.db_int(g.flag_sender),
        }
        for g in groups
    ]
    return ok(data=rows or None)
