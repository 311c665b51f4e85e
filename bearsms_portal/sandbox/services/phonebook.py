"""Phonebook: contacts and groups (for `#group` sends, `get_contact`, `get_contact_group`)."""

from __future__ import annotations

import re

from django.db.models import Q

from ..models import Contact, PhonebookGroup, SandboxUser


def add_group(owner: SandboxUser, *, name: str, code: str, flag_sender: int = 0) -> PhonebookGroup:
    return PhonebookGroup.objects.get_or_create(
        owner=owner, code=code, defaults={"name": name, "flag_sender": flag_sender}
    )[0]


def add_contact(
    owner: SandboxUser,
    *,
    name: str,
    mobile: str,
    email: str = "",
    tags: str = "",
    groups: list[PhonebookGroup] = (),
) -> Contact:
    contact, _ = Contact.objects.get_or_create(
        owner=owner, mobile=mobile, defaults={"name": name, "email": email, "tags": tags}
    )
    if groups:
        contact.groups.add(*groups)
    return contact


def _visible_contacts(user: SandboxUser):
    shared = Q(groups__flag_sender=2)
    return Contact.objects.filter(Q(owner=user) | shared).distinct()


def search_contacts(user: SandboxUser, kwd: str, *, limit: int | None) -> list[Contact]:
    kwd = re.sub(r"[^\w\s.\-\[\]():=,@#]", "", kwd or "")
    if len(kwd) < 2:
        return []
    match = (
        Q(name__icontains=kwd)
        | Q(mobile__icontains=kwd)
        | Q(email__icontains=kwd)
        | Q(tags__icontains=kwd)
    )
    qs = _visible_contacts(user).filter(match).order_by("id")
    return list(qs[:limit] if limit else qs)


def search_groups(user: SandboxUser, kwd: str, *, limit: int | None) -> list[PhonebookGroup]:
    kwd = re.sub(r"[^A-Za-z0-9_-]", "", kwd or "")
    if len(kwd) < 2:
        return []
    qs = (
        PhonebookGroup.objects.filter(Q(owner=user) | Q(flag_sender=2))
        .filter(Q(name__icontains=kwd) | Q(code__icontains=kwd))
        .order_by("id")
    )
    return list(qs[:limit] if limit else qs)
