"""The main journeys, end to end in Debian's chromium: the live server with the sandbox, the
session's real Celery worker and beat, and the page checks of ``pages.py`` on every page.

Run them alone with ``pytest -m journey``."""

from __future__ import annotations

import csv
import io
import re
import time
import zoneinfo
from datetime import timedelta

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accounts import invitations, services
from accounts.models import AuditEntry, BearSMSAccount, CreditLedgerEntry, PortalProfile
from messaging import sync
from messaging.models import Feed, OutgoingMessage, Send, SendDestination, SyncCursor
from messaging.services.sending import send_message

from .people import OPERATOR, PASSWORD, operator, reseller, subaccount

pytestmark = [
    pytest.mark.journey,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def _pull(account, feed=Feed.OUTGOING):
    cursor, _ = SyncCursor.objects.get_or_create(account=account, feed=feed)
    sync.pull(cursor=cursor)


def test_7_reseller_b_editing_urls_to_reseller_a_pages_gets_404_each(world, journey):
    op = operator()
    res_a, user_a = reseller(op, world, "resa", credit=100)
    sub_a = subaccount(op, world, res_a, "resa-sub")
    res_b, _ = reseller(op, world, "resb", credit=10)
    invitation, _ = invitations.invite(actor=op, account=sub_a, username="resa-sub-login")
    transfer = services.credit_transfer(
        actor=user_a, source=res_a, target=sub_a, amount=5, reason="for the campaign"
    )
    send = send_message(actor=user_a, account=res_a, recipients="+14152345678", text="Hi A")
    world.add_outgoing("resa", 1)
    _pull(res_a)
    message = OutgoingMessage.objects.filter(account=res_a).first()
    assert message is not None

    foreign = [
        reverse("accounts:detail", args=[res_a.pk]),
        reverse("accounts:detail", args=[sub_a.pk]),
        reverse("accounts:logins", args=[sub_a.pk]),
        reverse("accounts:invitation_resend", args=[sub_a.pk, invitation.pk]),
        reverse("accounts:credit_transfer", args=[sub_a.pk]),
        reverse("accounts:prefs", args=[sub_a.pk]),
        reverse("accounts:conf", args=[sub_a.pk]),
        reverse("accounts:ban", args=[sub_a.pk]),
        reverse("accounts:account_ledger_export", args=[res_a.pk]),
        reverse("accounts:transfer_detail", args=[transfer.pk]),
        reverse("sending:detail", args=[send.pk]),
        reverse("sending:status", args=[send.pk]),
        reverse("messaging:detail", args=[Feed.OUTGOING, message.pk]),
    ]
    b = journey()
    b.log_in("resb-portal", PASSWORD)
    # B's own pages work, and the same kinds of URL with A's ids do not.
    b.goto(reverse("accounts:detail", args=[res_b.pk]))
    for url in foreign:
        b.goto(url, status=404)
        assert "resa" not in b.page.content()
    # A's data is in none of B's lists either.
    for url in (reverse("accounts:list"), reverse("sending:list"), "/messages/outgoing/"):
        b.goto(url)
        assert "resa" not in b.page.locator("main").inner_text()


def test_1_operator_creates_a_reseller_invites_its_login_and_adds_credit(world, journey):
    operator()
    op = journey()
    op.log_in(*OPERATOR)
    page = op.page

    op.goto(reverse("accounts:create"))
    page.fill("#id_username", "acme")
    page.fill("#id_password", PASSWORD)
    page.fill("#id_name", "Acme Ltd")
    page.fill("#id_email", "ops@acme.example.org")
    page.select_option("#id_level", str(BearSMSAccount.Level.USER))
    op.submit("Create account", url=re.compile(r"/accounts/\d+/$"))
    expect(page.locator("h1")).to_contain_text("acme")
    acme = BearSMSAccount.objects.get(username="acme")
    assert world.user("acme") is not None  # created on the server

    # Invite its portal login: the link is shown once.
    op.follow("Portal logins and invitations", url=re.compile(r"/logins/$"))
    page.fill("#id_username", "acme-admin")
    page.fill("#id_email", "boss@acme.example.org")
    op.submit("Create invitation")
    expect(page.locator("#invitation-link code")).to_contain_text("/invite/")
    expect(page.locator("table tbody")).to_contain_text("acme-admin")

    # Add credit through the form; the detail page shows the new balance.
    op.goto(reverse("accounts:detail", args=[acme.pk]))
    op.follow(page.locator("a", has_text=re.compile(r"^Add$")), url=re.compile(r"/credit/add/$"))
    page.fill("#id_amount", "250")
    page.fill("#id_reason", "first top-up")
    op.submit("Add credit", url=re.compile(r"/accounts/\d+/$"))
    expect(page.locator("main")).to_contain_text("acme now has 250")
    expect(page.locator("#available-balance")).to_have_text("250.00")

    # The move is in the ledger and the audit log.
    op.goto(reverse("accounts:ledger"))
    row = page.locator("table tbody tr", has_text="first top-up")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("acme")
    expect(row).to_contain_text("250")
    op.goto(reverse("accounts:audit"))
    audit = page.locator("table tbody")
    for op_name in ("accountadd", "portalinvite", "creditadd"):
        shown = audit.locator(f"tr:has(span[title={op_name}])").filter(has_text="acme")
        expect(shown).not_to_have_count(0)
    assert CreditLedgerEntry.objects.filter(account=acme, reason="first top-up").count() == 1
    assert AuditEntry.objects.filter(action="creditadd", target_username="acme").exists()


def test_2_reseller_accepts_sets_up_two_subaccounts_links_one_moves_credit_bans_the_other(
    world, journey
):
    op = operator()
    acme, _ = reseller(op, world, "acme", credit=100)
    _, token = invitations.invite(actor=op, account=acme, username="acme-boss")
    person = journey()
    page = person.page

    # The invitation: set a password, then log in with it.
    person.goto(reverse("accept_invitation", args=[token]))
    page.fill("#id_password1", "Boss-pass-2026!")
    page.fill("#id_password2", "Boss-pass-2026!")
    person.submit("Set password", url=re.compile(r"/login/"))
    expect(page.locator(".alert-success")).to_contain_text("log in as acme-boss")
    person.log_in("acme-boss", "Boss-pass-2026!")

    # Two subaccounts; the server creates them with webservices off (not linked).
    for username in ("acme-shop", "acme-promo"):
        person.goto(reverse("accounts:create"))
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.fill("#id_name", f"Acme {username[5:]}")
        page.fill("#id_email", f"{username}@acme.example.org")
        person.submit("Create account", url=re.compile(r"/accounts/\d+/$"))
        expect(page.locator(".badge", has_text="not linked")).to_be_visible()
    shop = BearSMSAccount.objects.get(username="acme-shop")
    promo = BearSMSAccount.objects.get(username="acme-promo")
    assert shop.parent == promo.parent == acme

    # Link acme-shop: log in as it on BearSMS, enable webservices there, then "Link now".
    person.goto(reverse("accounts:detail", args=[shop.pk]))
    with page.expect_popup() as opened:
        page.get_by_role("button", name="Log in as acme-shop").click()
    bearsms = opened.value  # the sandbox's own pages, not the portal's
    bearsms.wait_for_load_state()
    bearsms.click("#preferences")
    bearsms.check("#enable_webservices")
    bearsms.fill("#webservices_ip", "127.0.0.1")
    bearsms.check("#new_token")
    bearsms.click("#save")
    expect(bearsms.locator("#token-state")).to_have_text("Webservices token: set")
    bearsms.close()
    person.follow("Link now", url=re.compile(r"/link-now/$"))
    person.submit("Link now", url=re.compile(rf"/accounts/{shop.pk}/$"))
    expect(page.locator(".badge", has_text=re.compile(r"^linked$"))).to_be_visible()

    # Transfer credit to it: more than acme has is refused with the figure, 30 goes through.
    person.follow("Transfer credit", url=re.compile(r"/credit/transfer/$"))
    page.fill("#id_amount", "500")
    page.fill("#id_reason", "too much")
    person.submit("Transfer credit")
    expect(page.locator("main")).to_contain_text("acme has 100 available; 500 is more than that.")
    page.fill("#id_amount", "30")
    page.fill("#id_reason", "shop opening")
    person.submit("Transfer credit", url=re.compile(rf"/accounts/{shop.pk}/$"))
    expect(page.locator(".alert-success")).to_contain_text("Moved 30 from acme to acme-shop")
    expect(page.locator("#available-balance")).to_have_text("30.00")

    # Ban acme-promo.
    person.goto(reverse("accounts:detail", args=[promo.pk]))
    person.follow(page.locator("main a", has_text=re.compile(r"^Ban$")), url=re.compile("/ban/$"))
    person.submit("Ban", url=re.compile(rf"/accounts/{promo.pk}/$"))
    expect(page.locator("h1 .badge, main .badge").filter(has_text="banned")).not_to_have_count(0)
    assert world.user("acme-promo").banned_at is not None

    # Sending as it: compose says why it is not offered; a form that still names it is refused.
    person.goto(reverse("sending:compose"))
    expect(page.locator("#id_account option", has_text="acme-promo")).to_have_count(0)
    expect(page.locator("#unavailable-accounts")).to_contain_text(
        "acme-promo: The account is banned on BearSMS"
    )
    page.evaluate(
        "pk => document.getElementById('id_account').add(new Option('acme-promo', pk, true, true))",
        str(promo.pk),
    )
    page.fill("#id_recipients", "+14152345671")
    page.fill("#id_text", "Last day of the promotion")
    person.submit(page.locator("#compose-form button[type=submit]"), url=re.compile(r"/send/$"))
    expect(page.locator("#compose-form .invalid-feedback")).to_have_text(
        "Not sent: you cannot send as acme-promo. "
        "The account is banned on BearSMS: unban it to send as it."
    )
    assert not Send.objects.filter(account=promo).exists()
    assert not world.requests("pv")


def _figure(page, label: str) -> str:
    return page.locator(".card-body", has_text=label).locator(".fs-4").inner_text().strip()


def _until_listed(person, path: str, text: str, timeout: float = 30) -> None:
    """Open ``path`` again until a table row shows ``text`` (the worker syncs every second)."""
    deadline = time.monotonic() + timeout
    while True:
        person.goto(path)
        if person.page.locator("table tbody tr", has_text=text).count():
            return
        assert time.monotonic() < deadline, f"{text!r} never appeared on {path}"
        person.page.wait_for_timeout(700)


def test_6_operator_injects_an_incoming_message_it_reaches_incoming_inbox_and_dashboard(
    world, journey
):
    op_user = operator()
    shop, _ = reseller(op_user, world, "shop", credit=10)
    world.add_keyword("shop", "SHOP", feature="inbox")
    op = journey()
    op.log_in(*OPERATOR)
    assert _figure(op.page, "Incoming + inbox today") == "0"

    op.goto(reverse("accounts:inject"))
    op.page.fill("#id_sender", "+14155550123")
    op.page.fill("#id_message", "SHOP two large pizzas please")
    op.submit("Inject")
    expect(op.page.locator(".alert-success")).to_contain_text("Test message injected")

    _until_listed(op, "/messages/incoming/", "two large pizzas")
    _until_listed(op, "/messages/inbox/", "two large pizzas")
    op.goto("/")
    assert _figure(op.page, "Incoming + inbox today") == "1"

    # The reseller sees it in its own Incoming and Inbox too.
    person = journey()
    person.log_in("shop-portal", PASSWORD)
    assert _figure(person.page, "Incoming + inbox today") == "1"
    for path in ("/messages/incoming/", "/messages/inbox/"):
        person.goto(path)
        expect(person.page.locator("table tbody")).to_contain_text("two large pizzas")


FINAL = {"Delivered", "Failed"}


def test_3_compose_to_three_numbers_and_a_group_follow_it_and_export(world, journey):
    op_user = operator()
    shop, _ = reseller(op_user, world, "shop", credit=100)
    world.add_group("shop", "Staff", "STAFF")
    world.add_contact("shop", "Ann", "+14155550101", groups=["STAFF"])
    world.add_contact("shop", "Bob", "+14155550102", groups=["STAFF"])
    person = journey()
    person.log_in("shop-portal", PASSWORD)
    page = person.page
    # Outgoing, open in another tab from before the send, is never reloaded.
    outgoing = person.tab()
    outgoing.goto("/messages/outgoing/")
    expect(outgoing.page.locator("table tbody")).to_have_text("No messages match.")
    outgoing.page.evaluate("window.neverReloaded = true")

    person.goto(reverse("sending:compose"))
    numbers = ["+14152345671", "+14152345672", "+14152345673"]
    page.fill("#id_recipients", ", ".join(numbers) + " #STAFF")
    counter = page.locator("#counter")
    page.fill("#id_text", "a" * 100)
    expect(counter.locator("[data-segments]")).to_have_text("1")
    page.fill("#id_text", "Stock count tonight at 8, bring the scanners. " * 4)
    expect(counter.locator("[data-segments]")).to_have_text("2")
    person.submit(page.locator("#compose-form button[type=submit]"), url=re.compile(r"/send/\d+/$"))

    # The worker submits and syncs; the page follows without a reload.
    rows = page.locator("#destinations tbody tr")
    for number in numbers:
        row = rows.filter(has_text=number.lstrip("+"))
        expect(row).to_have_count(1)
        expect(row.locator("[data-delivery]")).to_have_text(
            re.compile(r"^\s*(Delivered|Failed)\s*$"), timeout=60_000
        )
    expect(rows.filter(has_text="STAFF")).not_to_have_count(0)
    person.check()

    # The Outgoing tab came to list every number with its outcome by itself.
    table = outgoing.page.locator("table tbody")
    for number in [*numbers, "+14155550101", "+14155550102"]:
        expect(table.locator("tr", has_text=number.lstrip("+")).locator(".badge")).to_have_text(
            re.compile(r"^(Delivered|Failed)$"), timeout=30_000
        )
    assert outgoing.page.evaluate("window.neverReloaded === true")
    outgoing.check()

    # It exports to CSV and XLSX.
    page = outgoing.page
    with page.expect_download() as csv_download:
        page.get_by_role("link", name="Export CSV").click()
    csv_path = csv_download.value.path()
    with open(csv_path, newline="", encoding="utf-8-sig") as handle:
        exported = list(csv.DictReader(handle))
    assert len(exported) == 5
    with page.expect_download() as xlsx_download:
        page.get_by_role("link", name="Export XLSX").click()
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx_download.value.path().read_bytes()))
    sheet_rows = list(workbook.active.iter_rows(values_only=True))
    assert len(sheet_rows) == 1 + 5
    dst = sheet_rows[0].index(
        next(h for h in sheet_rows[0] if "dst" in str(h).lower() or "destination" in str(h).lower())
    )
    assert {str(r[dst]).lstrip("+") for r in sheet_rows[1:]} >= {n.lstrip("+") for n in numbers}


def test_4_scheduled_send_in_the_resellers_zone_listed_then_sent(world, journey):
    op_user = operator()
    shop, user = reseller(op_user, world, "shop", credit=100)
    PortalProfile.objects.filter(user=user).update(time_zone="Asia/Jakarta")
    person = journey()
    person.log_in("shop-portal", PASSWORD)
    page = person.page
    person.goto(reverse("sending:compose"))
    zone = zoneinfo.ZoneInfo("Asia/Jakarta")
    when = (
        (timezone.now() + timedelta(minutes=30)).astimezone(zone).replace(second=0, microsecond=0)
    )
    page.fill("#id_recipients", "+14152345671")
    page.fill("#id_text", "Doors open in half an hour")
    page.fill("#id_schedule", when.strftime("%Y-%m-%dT%H:%M"))
    person.submit(page.locator("#compose-form button[type=submit]"), url=re.compile(r"/send/\d+/$"))
    send = Send.objects.get()
    assert send.scheduled_for == when  # the instant typed, read in the reseller's zone

    # Listed as scheduled, at the time typed, once the worker has submitted it.
    deadline = time.monotonic() + 30
    while True:
        person.goto(reverse("sending:scheduled"))
        row = page.locator("table tbody tr", has_text=f"#{send.pk}")
        if row.count() and SendDestination.objects.filter(send=send, smslog_id__isnull=False):
            break
        assert time.monotonic() < deadline, "the scheduled send was never submitted"
        page.wait_for_timeout(700)
    expect(row).to_contain_text(when.strftime("%Y-%m-%d %H:%M"))
    assert not world.tick().dispatched  # the server holds it until its time

    # The sandbox's clock moves past the time: dispatched, reported, synced.
    later = when + timedelta(minutes=1)
    assert world.tick(now=later).dispatched == 1
    world.tick(now=later + timedelta(seconds=5))
    person.goto(reverse("sending:detail", args=[send.pk]))
    expect(page.locator("#destinations [data-delivery]")).to_have_text(
        re.compile(r"^\s*(Delivered|Failed)\s*$"), timeout=30_000
    )
    person.check()
    person.goto(reverse("sending:scheduled"))
    expect(page.locator("table tbody tr", has_text=f"#{send.pk}")).to_have_count(0)
    person.goto(reverse("sending:list"))
    expect(page.locator("table tbody tr", has_text=f"#{send.pk}")).to_have_count(1)


BAD_ROWS = {7: "n/a", 250: "12", 731: ""}  # row numbers as the file counts them (header = 1)


def test_5_bulk_csv_bad_rows_by_number_progress_to_100_with_pause_and_resume(
    world, journey, tmp_path
):
    op_user = operator()
    reseller(op_user, world, "shop", credit=5000)
    path = tmp_path / "guests.csv"
    lines = ["Name,Mobile"]
    for row in range(2, 1002):
        lines.append(f"Guest {row},{BAD_ROWS.get(row, f'+1415234{row:04d}')}")
    path.write_text("\n".join(lines) + "\n")
    person = journey()
    person.log_in("shop-portal", PASSWORD)
    page = person.page
    person.goto(reverse("messaging:bulk_upload"))
    page.set_input_files("#id_file", str(path))
    person.submit("Upload", url=re.compile(r"/bulk/\d+/"))
    if page.get_by_role("link", name="Choose the columns").count():
        person.follow("Choose the columns")
    page.check("#id_header")
    page.select_option("#id_number_column", index=1)
    page.fill("#id_text", "Hi {name}, see you tonight.")
    person.submit(page.locator("form button[type=submit]").last)
    expect(page.locator("#rows-bad")).to_have_text(str(len(BAD_ROWS)), timeout=60_000)
    person.goto(page.url)
    bad = page.locator("#bad-rows tbody")
    for row in BAD_ROWS:
        expect(bad.locator("tr > td:first-child", has_text=re.compile(rf"^{row}$"))).to_have_count(
            1
        )

    person.submit(page.get_by_role("button", name=re.compile(r"^Send 997 messages")))
    done = page.locator("#send-done")
    expect(done).not_to_have_text("0", timeout=60_000)
    person.submit("Pause")
    expect(page.locator("#send-state")).to_contain_text("Paused", timeout=30_000)
    paused_at = int(done.inner_text())
    assert paused_at < 997, "the send finished before it could be paused"
    page.wait_for_timeout(2000)  # requests already in flight finish; then nothing moves
    settled = int(done.inner_text())
    page.wait_for_timeout(3000)
    assert int(done.inner_text()) == settled < 997
    person.submit("Resume")
    expect(done).to_have_text("997", timeout=120_000)
    expect(page.locator("#send-bar")).to_have_attribute(
        "style", re.compile(r"width:\s*100(\.0+)?%"), timeout=30_000
    )
    person.check()
