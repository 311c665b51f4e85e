"""Issue 11, acceptance 1: every page, for each role, reads the same way.

Walks the scope walk's URL list (``tests/accounts/test_scope.py``: every accounts URL, with
and without an id) plus the dashboard, the message, send and sync pages, as an operator, a
reseller and a subaccount user, each in a time zone far from the portal's (UTC+05:45), and fails
on: a date and time not written by the shared formatter (``<time>``, the user's zone, ``YYYY-MM-DD
hh:mm``), a raw op name or feed code outside a tooltip, ``---------`` in a select, or a credit
figure not written by the credit formatter.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime

import pytest
from django.urls import reverse

from accounts import urls as account_urls
from accounts.audit import ACTION_LABELS
from accounts.models import PortalProfile
from bearsms_portal.templatetags.portal_format import format_credit
from messaging.views import FEED_SLUGS

from .test_scope import TRANSFER_URLS, _kwargs, reseller_a_things  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

ZONE = "Asia/Kathmandu"
ID_URLS = [p.name for p in account_urls.urlpatterns if "pk" in p.pattern.converters]
PLAIN_URLS = [f"accounts:{p.name}" for p in account_urls.urlpatterns if not p.pattern.converters]
OTHER_PAGES = [
    "home",
    "accounts:profile",
    "messaging:sync_health",
    "messaging:exports",
    "messaging:bulk_upload",
    "sending:compose",
    "sending:list",
    "sending:scheduled",
] + [f"messaging:list:{slug}" for slug in FEED_SLUGS]
# the lists sorted another way, at their far end, and with a sort they do not offer
LIST_VARIANTS = ["?sort=sender&oldest=1", "?sort=-destination", "?sort=-status", "?sort=id"]

TIME = re.compile(r'<time[^>]*\bdatetime="([^"]+)"[^>]*>([^<]*)</time>')
CREDIT = re.compile(r'<span class="credit[^"]*">[^<]*</span>')
# Op names that are not also English words (those are judged by the words around them).
WORDS = {"in", "query", "send", "resend", "resolve", "stoplist", "inject"}
OP_CODES = sorted(
    {code for code in ACTION_LABELS if code not in WORDS}
    | {"ds", "ix", "sx", "creditadd", "creditdeduct", "get_contact", "get_contact_group"}
)
OP_CODE = re.compile(r"(?<![\w./-])(" + "|".join(map(re.escape, OP_CODES)) + r")(?![\w/-])")
LOOSE_DATE = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}")
FIGURE = re.compile(r"(?<![\w.,])-?\d[\d,]*\.\d+(?![\w.])")


def visible_text(html: str) -> str:
    """The text a reader sees: scripts, styles, tags and their attributes (tooltips) removed."""
    html = re.sub(r"(?s)<(script|style|textarea)\b.*?</\1>", " ", html)
    html = re.sub(r"(?s)<!--.*?-->", " ", html)
    return re.sub(r"(?s)<[^>]+>", " ", html)


def problems(html: str, zone) -> list[str]:
    found = []
    for stamp, shown in TIME.findall(html):
        moment = datetime.fromisoformat(stamp)
        if moment.tzinfo is None:
            found.append(f"naive time {stamp}")
            continue
        local = moment.astimezone(zone)
        if shown not in (local.strftime("%Y-%m-%d %H:%M"), local.strftime("%Y-%m-%d %H:%M:%S")):
            found.append(f"time {stamp} shown as {shown!r}, not in the user's zone format")
    rest = TIME.sub(" ", html)
    credits = CREDIT.findall(rest)
    for figure in credits:
        text = visible_text(figure).strip()
        if not re.fullmatch(r"[-+]?\d{1,3}(,\d{3})*\.\d{2}", text):
            found.append(f"credit figure {text!r}")
    text = visible_text(CREDIT.sub(" ", rest))
    found += [f"date not through the formatter: {m!r}" for m in LOOSE_DATE.findall(text)]
    found += [f"raw op name or feed code: {m!r}" for m in OP_CODE.findall(text)]
    found += [f"figure not through the credit formatter: {m!r}" for m in FIGURE.findall(text)]
    if "---------" in html:
        found.append('"---------" in a select')
    return found


def _pages(world, role_accounts, extras, transfer):
    for name in PLAIN_URLS + OTHER_PAGES:
        if name.startswith("messaging:list:"):
            url = reverse("messaging:list", kwargs={"slug": name.rsplit(":", 1)[1]})
            yield url
            yield from (url + variant for variant in LIST_VARIANTS)
        elif not name.endswith("_export"):
            yield reverse(name)
    for account in role_accounts:
        for name in ID_URLS:
            if "export" not in name:
                yield reverse(f"accounts:{name}", kwargs=_kwargs(name, account, extras))
    for name in TRANSFER_URLS:
        yield reverse(f"accounts:{name}", kwargs={"transfer_pk": transfer.pk})


def test_the_checks_can_fail():
    zone = zoneinfo.ZoneInfo(ZONE)
    moment = datetime(2026, 11, 30, 9, 12, tzinfo=zoneinfo.ZoneInfo("UTC"))
    assert problems(f"<td>{moment:%Y-%m-%d %H:%M}</td>", zone)  # raw, in UTC
    assert problems("<td>accountadd</td><td>ds</td>", zone)
    assert not problems('<td><span title="accountadd">Account created</span></td>', zone)
    assert problems("<option>---------</option>", zone)
    assert problems("<td>1234.5</td>", zone)
    assert not problems(f"<td>{format_credit('-1234.5')}</td>", zone)
    assert "-1,234.50" in format_credit("-1234.5") and "text-danger" in format_credit(-1)
    assert ">0.00<" in format_credit("-0.001")


def test_every_page_reads_the_same_for_each_role(world, client, reseller_a_things):  # noqa: F811
    extras, transfer = reseller_a_things
    zone = zoneinfo.ZoneInfo(ZONE)
    roles = [
        (world.operator, [world.reseller_a, world.sub_a]),
        (world.user_a, [world.reseller_a, world.sub_a]),
        (world.user_sub_a, [world.sub_a]),
    ]
    seen = 0
    report = {}
    for user, accounts in roles:
        PortalProfile.objects.update_or_create(user=user, defaults={"time_zone": ZONE})
        client.force_login(user)
        for url in _pages(world, accounts, extras, transfer):
            response = client.get(url)
            assert response.status_code < 500, url
            if response.status_code != 200:
                continue
            if not response.get("Content-Type", "").startswith("text/html"):
                continue
            seen += 1
            html = response.content.decode()
            found = problems(html, zone)
            if found:
                report[f"{user.username} {url}"] = found
            # the zone is named once per page
            assert html.count("Times in ") <= 1, url
    assert not report, "\n".join(f"{page}: {found}" for page, found in report.items())
    assert seen >= 40
