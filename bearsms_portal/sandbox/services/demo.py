"""The demo world of ``sandbox_seed``: idempotent, so a second run changes nothing.

The main admin, two resellers with subaccounts, phonebook groups and contacts, keywords, rates,
and traffic in every feed: outgoing (`ds`, delivered and waiting), handled incoming (`in`),
inbox (`ix`) and unhandled incoming (`sx`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from .. import profiles
from ..models import Keyword, Level, Outgoing, SandboxUser
from . import lifecycle, phonebook, sending, world
from .accounts import approve_sender_id
from .auth import find_live
from .credit import set_credit

RESELLERS = {
    "acme": ("Acme Reseller", ["acme-sales", "acme-support"]),
    "globex": ("Globex Reseller", ["globex-ops"]),
}
DEMO_PASSWORD = "demo-pass-1"  # noqa: S105 - demo accounts of the sandbox


@dataclass(frozen=True)
class AccountCard:
    """What an operator reads off the sandbox's web UI to link one account in the portal."""

    username: str
    level: int
    parent: str | None  # the parent's username (subaccounts)
    name: str
    email: str
    mobile: str
    banned: bool
    token: str | None  # None while webservices are off for the account
    credit: object  # Decimal, the cached figure `cr` reports
    sender: str
    footer: str
    timezone: str
    language: str
    fwd_to_inbox: bool
    fwd_to_email: bool
    fwd_to_mobile: bool
    local_length: int
    replace_zero: str


def account_cards() -> list[AccountCard]:
    """The live resellers (users) and subaccounts, resellers first, oldest first."""
    rows = (
        SandboxUser.objects.filter(deleted=False, status__in=[Level.USER, Level.SUBACCOUNT])
        .select_related("parent")
        .order_by("status", "id")
    )
    return [
        AccountCard(
            username=row.username,
            level=row.status,
            parent=row.parent.username if row.parent else None,
            name=row.name,
            email=row.email,
            mobile=row.mobile,
            banned=row.banned_at is not None,
            token=row.token if row.token and row.enable_webservices else None,
            credit=row.credit,
            sender=row.sender,
            footer=row.footer,
            timezone=row.datetime_timezone,
            language=row.language_module,
            fwd_to_inbox=row.fwd_to_inbox,
            fwd_to_email=row.fwd_to_email,
            fwd_to_mobile=row.fwd_to_mobile,
            local_length=row.local_length,
            replace_zero=row.replace_zero,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class KeywordCard:
    """A keyword as the sandbox's web UI lists it, with a message that triggers it."""

    keyword: str
    owner: str
    feature: str
    example: str


def keyword_cards() -> list[KeywordCard]:
    """The live accounts' keywords, alphabetically, each with a text that reaches it (an
    autoreply answers only its scenarios, so it is shown with each of them)."""
    cards = []
    rows = (
        Keyword.objects.filter(owner__deleted=False)
        .select_related("owner")
        .prefetch_related("scenarios")
        .order_by("keyword")
    )
    for row in rows:
        params = [s.param for s in row.scenarios.all()] if row.feature == "autoreply" else [""]
        for param in params or [""]:
            example = f"{row.keyword} {param or 'hello'}".strip()
            cards.append(KeywordCard(row.keyword, row.owner.username, row.feature, example))
    return cards


@dataclass
class SeedResult:
    created: list[str] = field(default_factory=list)
    traffic: bool = False
    bulk: int = 0


def seed(
    *, admin_username: str, admin_token: str, messages: int = 0, messages_user: str | None = None
) -> SeedResult:
    result = SeedResult()
    admin = world.ensure_main_admin(admin_username, token=admin_token)
    if not Outgoing.objects.filter(user=admin).exists() and admin.credit == 0:
        set_credit(admin, 1000)
    world.set_rate("62", "0.5")
    world.set_rate("1", "1")
    for reseller, (name, subaccounts) in RESELLERS.items():
        _account(result, reseller, level=Level.USER, name=name, credit=500)
        for sub in subaccounts:
            _account(
                result,
                sub,
                level=Level.SUBACCOUNT,
                parent=reseller,
                name=sub.replace("-", " ").title(),
                credit=100,  # its own credit: the demo traffic below never takes it below 0
            )
    approve_sender_id(find_live("acme"), "ACME")
    _phonebook(admin)
    world.add_keyword(admin, "INFO", scenarios={"HOURS": "We are open 9-17, Monday to Friday"})
    world.add_keyword(find_live("acme"), "ACME", feature="poll")
    if not Outgoing.objects.filter(user__username="acme").exists():
        _traffic(admin)
        result.traffic = True
    if messages:
        target = find_live(messages_user) if messages_user else admin
        result.bulk = world.add_outgoing(target, messages)
    return result


def _account(result: SeedResult, username: str, **kwargs) -> None:
    if find_live(username) is None:
        world.create_user(username, password=DEMO_PASSWORD, **kwargs)
        result.created.append(username)


def _phonebook(admin) -> None:
    customers = phonebook.add_group(admin, name="Customers", code="CUSTOMERS", flag_sender=0)
    for name, mobile in [
        ("Anton Raharja", "628901230659"),
        ("Budi Santoso", "628901230660"),
        ("Citra Dewi", "628901230661"),
    ]:
        phonebook.add_contact(
            admin,
            name=name,
            mobile=mobile,
            email=f"{name.split()[0].lower()}@example.org",
            groups=[customers],
        )
    acme = find_live("acme")
    leads = phonebook.add_group(acme, name="Sales leads", code="LEADS", flag_sender=1)
    for name, mobile in [("Dewi Lestari", "628111000101"), ("Eko Prasetyo", "628111000102")]:
        phonebook.add_contact(acme, name=name, mobile=mobile, tags="lead", groups=[leads])


def _send(username: str, to: str, text: str, **fields) -> None:
    message = sending.Message(to=to, msg=text, **fields)
    sending.send(
        account=find_live(username), message=message, now=timezone.now(), sw=profiles.current()
    )


def _traffic(admin) -> None:
    sw = profiles.current()
    now = timezone.now()
    for username, number, text in [
        (admin.username, "628123450001", "Welcome to BearSMS"),
        (admin.username, "#CUSTOMERS", "Our hours change next week"),
        ("acme", "628123450002", "Your order has shipped"),
        ("acme", "628123450003", "Your code is 123456"),
        ("acme-sales", "628123450004", "Thanks for your interest"),
        ("globex", "628123450005", "Meeting moved to 3pm"),
        ("globex-ops", "628123450006", "Server maintenance tonight"),
    ]:
        _send(username, number, text)
    _send(admin.username, "@acme", "Your reseller account is ready")
    _send("acme", "@acme-sales", "Please follow up the new leads")
    for username in ("acme", "globex"):
        world.add_outgoing(
            find_live(username), 20, msg="history message {i}", start=now - timedelta(days=2)
        )
    for sender, text in [
        ("628111000201", "INFO HOURS"),
        ("628111000202", "ACME yes"),
        ("628111000203", "hello, is anybody there?"),
    ]:
        world.inject_incoming(sender=sender, text=text, recvnum="1234", now=now)
    later = now + timedelta(seconds=max(sw.daemon_delay, sw.receive_delay) + 1)
    lifecycle.tick(now=later, sw=sw)
    lifecycle.tick(now=later + timedelta(seconds=sw.dlr_delay + 1), sw=sw)
    lifecycle.tick(now=later + timedelta(seconds=2 * sw.dlr_delay + 2), sw=sw)
    _send("acme", "628123450007", "Happy new year!", schedule="2099-01-01 00:00:00")
