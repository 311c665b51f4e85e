"""Issue 14, acceptance 4: bad input never reaches a 500.

- each bad value of each bounded field gets a form error, and nothing reaches the server;
- a balance bigger than the old columns held (10¹²), synced from the server, renders;
- a fuzz over every table's query string (sort, page, per_page, every filter of the page's
  filter bar) for each role finds no 500 anywhere.
"""

from __future__ import annotations

import random
import re
from decimal import Decimal

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils.html import escape

from accounts import amounts, services
from accounts.models import AuditEntry
from bearsms_portal.paging import PER_PAGE_MAX, per_page
from bearsms_portal.sandbox.models import RequestLog
from bearsms_portal.sandbox.services.credit import set_credit
from messaging.views import FEED_SLUGS

from .conftest import keyed

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox(sandbox_documented):
    """Input bounds do not depend on the server's profile: one is enough."""
    return sandbox_documented


def _errors(response) -> dict[str, str]:
    """``{field: its errors in one line}`` of the page's form, as shown to the user."""
    html = response.content.decode()
    form = response.context["form"]
    shown = {}
    for field, errors in form.errors.items():
        for error in errors:
            assert escape(error) in html, error
        shown[field] = " ".join(errors)
    return shown


AMOUNTS = [
    ("-5", "greater than zero"),
    ("0", "greater than zero"),
    ("10000000000", "the most BearSMS can hold"),
    ("1e400", "the most BearSMS can hold"),
    ("1.2345", "at most 3 decimals"),
    ("NaN", "Enter a number"),
    ("Infinity", "Enter a number"),
    ("twelve", "Enter a number"),
]


@pytest.mark.parametrize(("value", "error"), AMOUNTS)
def test_a_bad_amount_is_a_form_error(world, client, value, error):
    client.force_login(world.operator)
    before = RequestLog.objects.count()
    for page in ("credit_add", "credit_deduct", "credit_transfer"):
        data = keyed({"amount": value, "reason": "r", "direction": "to_sub"})
        response = client.post(reverse(f"accounts:{page}", kwargs={"pk": world.sub_a.pk}), data)
        assert response.status_code == 200
        assert error in _errors(response).get("amount", ""), page
    assert RequestLog.objects.count() == before  # nothing was asked of the server


@pytest.mark.parametrize(
    ("value", "error"),
    [("10000000000", "the most BearSMS can hold"), ("-1e400", "the most"), ("x", "a number")],
)
def test_a_bad_threshold_is_a_form_error(world, client, value, error):
    client.force_login(world.operator)
    url = reverse("accounts:threshold", kwargs={"pk": world.sub_a.pk})
    response = client.post(url, {"low_balance_threshold": value})
    assert response.status_code == 200
    assert error in _errors(response).get("low_balance_threshold", "")


def test_the_service_holds_the_same_bounds(world):
    for value, _ in AMOUNTS:
        with pytest.raises(services.ServiceError) as info:
            services.credit_add(actor=world.operator, account=world.sub_a, amount=value, reason="r")
        assert info.value.field == "amount"
    assert amounts.check_amount("9999999999.999") == amounts.MAX_AMOUNT


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("timezone", "-1300", "not one of the available choices"),
        ("timezone", "+1500", "not one of the available choices"),
        ("timezone", "+0075", "not one of the available choices"),
        ("timezone", "0700", "not one of the available choices"),
        ("replace_zero", "6a", "Digits only"),
        ("replace_zero", "+62", "Digits only"),
        ("replace_zero", "٦٢", "Digits only"),  # Arabic-Indic digits are not the server's
        ("local_length", "20", "less than or equal to 19"),
        ("local_length", "-1", "greater than or equal to 0"),
    ],
)
def test_a_bad_configuration_value_is_a_form_error(world, client, field, value, error):
    client.force_login(world.operator)
    url = reverse("accounts:conf", kwargs={"pk": world.sub_a.pk})
    response = client.post(url, keyed({field: value}))
    assert response.status_code == 200
    assert error in _errors(response).get(field, ""), field
    assert not AuditEntry.objects.filter(action="accountconf").exists()


@pytest.mark.parametrize("value", ["0", "206", "-3", "Indonesia", "82.0"])
def test_an_unknown_country_is_a_form_error(world, client, value):
    client.force_login(world.operator)
    url = reverse("accounts:prefs", kwargs={"pk": world.sub_a.pk})
    response = client.post(url, keyed({"country": value}))
    assert response.status_code == 200
    assert services.COUNTRY_RULE in _errors(response).get("country", "")
    assert not AuditEntry.objects.filter(action="accountpref").exists()
    with pytest.raises(services.ServiceError) as info:
        services.account_pref(actor=world.operator, account=world.sub_a, country=999)
    assert info.value.field == "country"


def test_a_field_the_server_cannot_clear_says_so_and_keeps_its_value(world, client):
    """accountconf and accountpref ignore empty values: emptying a field the server holds is
    a form error on that field, and the portal keeps the server's value, not ''."""
    client.force_login(world.operator)
    account = services.account_conf(
        actor=world.operator, account=world.sub_a, timezone="+0700", language="en"
    )
    services.account_pref(actor=world.operator, account=account, city="Jakarta")
    url = reverse("accounts:conf", kwargs={"pk": account.pk})
    response = client.post(
        url, keyed({"timezone": "", "language": "", "footer": account.footer, "sender": ""})
    )
    errors = _errors(response)
    assert "cannot clear" in errors["timezone"] and "cannot clear" in errors["language"]
    response = client.post(
        reverse("accounts:prefs", kwargs={"pk": account.pk}), keyed({"city": ""})
    )
    assert "cannot clear" in _errors(response)["city"]
    account.refresh_from_db()
    assert (account.timezone, account.language, account.city) == ("+0700", "en", "Jakarta")


# --- a huge balance ----------------------------------------------------------------------------


def test_a_huge_balance_from_the_server_renders_everywhere(world, client):
    # > 10¹²: past what the old columns held (15 significant digits: exact even through
    # the float SQLite reads it as)
    huge = Decimal("2000000000000.5")
    set_credit(world.sandbox.user("resa"), huge)
    balance = services.credit_refresh(actor=world.operator, account=world.reseller_a)
    assert balance.server_figure == huge
    services.credit_add(actor=world.operator, account=world.reseller_a, amount="0.5", reason="r")
    pages = [
        reverse("accounts:list"),
        reverse("accounts:detail", kwargs={"pk": world.reseller_a.pk}),
        reverse("accounts:ledger"),
        reverse("home"),
    ]
    for user in (world.operator, world.user_a):
        client.force_login(user)
        for url in pages:
            response = client.get(url)
            assert response.status_code == 200, (user, url)
        assert "2,000,000,000,001.00" in client.get(pages[1]).content.decode()
        csv = b"".join(client.get(reverse("accounts:list_export")).streaming_content).decode()
        assert "2000000000001" in csv and "error" not in csv.lower()


def test_a_figure_no_column_can_hold_is_refused_not_stored(world):
    with pytest.raises(amounts.FigureTooLarge):
        amounts.server_figure(Decimal("1e21"))
    with pytest.raises(amounts.FigureTooLarge):
        amounts.server_figure(Decimal("NaN"))


# --- per_page and the fuzz ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("", 50), ("0", 1), ("-5", 1), ("7", 7), ("1000000000000", PER_PAGE_MAX), ("x", 50)],
)
def test_per_page_is_bounded(raw, expected):
    assert per_page(RequestFactory().get("/", {"per_page": raw} if raw else {})) == expected


def test_per_page_pages_the_table(world, client):
    client.force_login(world.operator)
    html = client.get(reverse("accounts:list"), {"per_page": "1"}).content.decode()
    assert html.count('href="/accounts/') - html.count('href="/accounts/new') >= 1
    rows = re.findall(r"<tr[ >]", html.split("<tbody", 1)[1].split("</tbody>", 1)[0])
    assert len(rows) == 1


ODD = [
    "",
    "-",
    "0",
    "-1",
    "99999999999999999999999999",
    "1e309",
    "NaN",
    "%",
    "' OR 1=1 --",
    '"; DROP TABLE accounts_bearsmsaccount; --',
    "ü漢字🙂",
    "x" * 500,
    "2026-13-45",
    "\x00",
    "-time,--,?",
]

TABLES = [
    "accounts:list",
    "accounts:audit",
    "accounts:ledger",
    "accounts:transfers",
    "accounts:stoplist",
    "messaging:exports",
    "messaging:sync_health",
    "sending:list",
    "sending:scheduled",
    "home",
] + [f"messaging:list:{slug}" for slug in FEED_SLUGS]
ALWAYS = ["sort", "page", "per_page", "after", "before"]


def _url(name: str) -> str:
    if name.startswith("messaging:list:"):
        return reverse("messaging:list", kwargs={"slug": name.rsplit(":", 1)[1]})
    return reverse(name)


def _filter_names(html: str) -> set[str]:
    """The names of every control in the page's GET forms (its filter bar)."""
    names = set()
    for form in re.findall(r'(?s)<form[^>]*method="get"[^>]*>.*?</form>', html, flags=re.I):
        names |= set(re.findall(r'\bname="([^"]+)"', form))
    return names


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_no_query_string_makes_a_500(world, client):
    rng = random.Random(14)
    requests = 0
    failures = []
    for user in (world.operator, world.user_a, world.user_sub_a):
        client.force_login(user)
        for name in TABLES:
            url = _url(name)
            first = client.get(url)
            assert first.status_code < 500, url
            params = sorted(set(ALWAYS) | _filter_names(first.content.decode()))
            for number, param in enumerate(params):  # 3 odd values each, all of them per page
                for value in (ODD[(3 * number + k) % len(ODD)] for k in range(3)):
                    response = client.get(url, {param: value})
                    requests += 1
                    if response.status_code >= 500:
                        failures.append((user.username, url, param, value))
            for _ in range(2):  # every parameter odd at once
                query = {param: rng.choice(ODD) for param in params}
                response = client.get(url, query)
                requests += 1
                if response.status_code >= 500:
                    failures.append((user.username, url, "all", query))
    assert not failures, failures[:10]
    assert requests > 800, requests
