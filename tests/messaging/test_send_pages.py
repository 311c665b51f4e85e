"""Acceptance 1 of issue 9 through the pages, against the sandbox over HTTP: what the compose
page sends (one pv per destination, the parameters the server gets), scheduling across time
zones, and every error path with its message."""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEntry, BearSMSAccount, PortalProfile, StoplistNumber
from bearsms_portal.sandbox.models import Inbox, Queue
from messaging import (
    sync,
    tasks,  # noqa: F401 (registers the tasks for eager runs)
)
from messaging.models import Feed, Send, SendDestination

from .conftest import cursor_of, link_account, portal_user
from .test_sending import wait_for_logged

pytestmark = pytest.mark.django_db(transaction=True)
State = SendDestination.State
COMPOSE = reverse("sending:compose")


@pytest.fixture
def world(sandbox_documented, eager):
    sandbox = sandbox_documented
    rita = link_account(sandbox, "rita", credit=1000)
    rita.sender, rita.footer = "RitaCo", "Rita ltd"
    rita.save()
    sandbox.user("rita").__class__.objects.filter(username="rita").update(
        footer="Rita ltd", sender="RitaCo"
    )
    user = portal_user("rita-portal", role="reseller", account=rita)
    return sandbox, rita, user


def post(client, account, **fields):
    data = {
        "form_key": str(uuid.uuid4()),
        "account": account.pk,
        "recipients": "",
        "text": "",
        "sender": "",
        "footer": "on",
        "message_type": "text",
        "schedule": "",
        **fields,
    }
    if data["footer"] is None:
        del data["footer"]
    return client.post(COMPOSE, data)


def sent(sandbox):
    return [r.params for r in sandbox.requests("pv")]


def only_send() -> Send:
    return Send.objects.get()


def test_compose_page_for_every_role(world, client, operator_user):
    sandbox, rita, user = world
    sub = link_account(sandbox, "rita-sub", level=4, parent=rita)
    banned = link_account(sandbox, "gone")
    BearSMSAccount.objects.filter(pk=banned.pk).update(status="banned")
    BearSMSAccount.objects.create(username="nolink", link_error="no token yet")
    sub_user = portal_user("sub-portal", role="subaccount", account=sub)
    for who, offered, listed in (
        (operator_user, {"rita", "rita-sub"}, {"gone", "nolink"}),
        (user, {"rita", "rita-sub"}, set()),
        (sub_user, {"rita-sub"}, set()),
    ):
        client.force_login(who)
        response = client.get(COMPOSE)
        assert response.status_code == 200
        form = response.context["form"]
        assert {a.username for a in form.accounts.values()} == offered
        assert {u.account.username for u in response.context["unavailable"]} == listed
        page = response.content.decode()
        assert "Send a message" in page and 'id="counter"' in page
    client.force_login(operator_user)
    page = client.get(COMPOSE).content.decode()
    assert "banned on BearSMS" in page and "not linked" in page
    assert reverse("accounts:link", args=[BearSMSAccount.objects.get(username="nolink").pk]) in page
    # A subaccount user whose account is not linked: told why, and whom to ask.
    BearSMSAccount.objects.filter(pk=sub.pk).update(token_encrypted="")
    client.force_login(sub_user)
    page = client.get(COMPOSE).content.decode()
    assert "No account can send right now" in page
    assert "rita-sub</strong>: The account is not linked" in page
    assert "Ask your BearSMS operator to fix it." in page
    # A ban is inherited: with rita banned her subaccount cannot send either (the server refuses
    # its token), and the way out is rita's page.
    BearSMSAccount.objects.filter(pk=rita.pk).update(status="banned")
    client.force_login(operator_user)
    response = client.get(COMPOSE)
    listed = {u.account.username: u for u in response.context["unavailable"]}
    assert "Its reseller rita is banned" in listed["rita-sub"].reason
    assert listed["rita-sub"].banned == rita and listed["rita-sub"].can_fix
    assert reverse("accounts:detail", args=[rita.pk]) in response.content.decode()


def test_single_number(world, client):
    sandbox, rita, user = world
    client.force_login(user)
    response = post(client, rita, recipients="(415) 234-5678".replace(" ", ""), text="Hello")
    send = only_send()
    assert response.status_code == 302 and response["Location"] == reverse(
        "sending:detail", args=[send.pk]
    )
    [params] = sent(sandbox)
    assert params["to"] == "14152345678" and params["msg"] == "Hello"
    assert params["nofooter"] == "0" and params["unicode"] == "0" and "type" not in params
    [destination] = send.destinations.all()
    assert destination.state == State.SUBMITTED and destination.smslog_id
    assert AuditEntry.objects.filter(action="pv", target=rita).count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "14152345678" in page and "Submitted" in page
    status = client.get(reverse("sending:status", args=[send.pk])).json()
    assert status["summary"]["submitted"] == 1 and status["destinations"][0]["smslog_id"]


def test_many_duplicates_and_bad_entries(world, client):
    sandbox, rita, user = world
    client.force_login(user)
    response = post(client, rita, recipients="+14152345678 12, +4415, hello", text="Hi")
    assert response.status_code == 200
    errors = response.context["form"].errors["recipients"]
    assert len(errors) == 3 and any("“hello”" in e for e in errors)
    assert not Send.objects.exists() and not sent(sandbox)

    response = post(
        client,
        rita,
        recipients="+14152345678, 4152345679\n+14152345680;+14152345678 (415)234-5679",
        text="Hi",
    )
    send = only_send()
    assert send.destinations_total == 3 and send.duplicates_dropped == 2
    assert sorted(p["to"] for p in sent(sandbox)) == ["14152345678", "14152345679", "14152345680"]
    messages = [str(m) for m in response.wsgi_request._messages]
    assert "3 destination(s) queued for sending (2 duplicate(s) dropped)." in messages


def test_at_user_goes_to_the_inbox(world, client):
    sandbox, rita, user = world
    sandbox.create_user("bob")
    client.force_login(user)
    post(client, rita, recipients="@bob", text="Internal note")
    [destination] = Send.objects.earliest("id").destinations.all()
    assert destination.kind == "user" and destination.state == State.SUBMITTED
    assert destination.smslog_id is None
    assert Inbox.objects.filter(user__username="bob", msg__contains="Internal note").exists()
    post(client, rita, recipients="@nobody-here", text="Lost")
    refused = Send.objects.latest("id").destinations.get()
    assert refused.state == State.REFUSED and "no such account" in refused.reason
    post(client, rita, recipients="#nosuchgroup", text="Lost")
    refused = Send.objects.latest("id").destinations.get()
    assert refused.state == State.REFUSED and "no group matches the code" in refused.reason
    response = post(client, rita, recipients="@rita", text="me")
    assert "you cannot send to your own account" in response.context["form"].errors["recipients"][0]


def test_group_gives_one_row_per_member(world, client):
    sandbox, rita, user = world
    sandbox.add_group("rita", "Friends", "FRIENDS")
    for i in range(3):
        sandbox.add_contact("rita", f"F{i}", f"+1415234567{i}", groups=["FRIENDS"])
    client.force_login(user)
    post(client, rita, recipients="#friends", text="Party")
    send = only_send()
    [params] = sent(sandbox)
    assert params["to"] == "#friends"
    members = send.destinations.filter(kind="member")
    assert members.count() == 3
    assert all(m.state == State.SUBMITTED and m.smslog_id for m in members)
    assert len({m.smslog_id for m in members}) == 3
    status = client.get(reverse("sending:status", args=[send.pk])).json()
    assert status["summary"]["submitted"] == 3


def test_unicode_flash_and_footer_off(world, client):
    sandbox, rita, user = world
    client.force_login(user)
    post(client, rita, recipients="+14152345678", text="Привет, мир", message_type="flash")
    post(client, rita, recipients="+14152345679", text="No footer", footer=None)
    first, second = sent(sandbox)
    assert first["unicode"] == "1" and first["type"] == "flash" and first["nofooter"] == "0"
    assert second["unicode"] == "0" and second["nofooter"] == "1"
    unicode_send, plain = Send.objects.order_by("id")
    assert unicode_send.encoding == "ucs2" and unicode_send.message_type == "flash"
    assert plain.footer is False
    sandbox.settle()
    footers = dict(sandbox.user("rita").outgoing.values_list("dst", "footer"))
    assert footers["14152345678"] == "Rita ltd"


def test_scheduled_in_two_account_zones_is_the_instant_picked(world, client):
    sandbox, rita, user = world
    for name, tz in (("east", "+0900"), ("west", "+0100")):
        sandbox.create_user(name, timezone_=tz, credit=100)
    accounts = {}
    for name, tz in (("east", "+0900"), ("west", "+0100")):
        token = sandbox.user(name).token
        account = BearSMSAccount(username=name, timezone=tz)
        account.store_token(token)
        account.save()
        accounts[name] = account
    op = portal_user("ops", role="operator")
    PortalProfile.objects.create(user=op, role="", time_zone="America/New_York")
    client.force_login(op)
    zone = zoneinfo.ZoneInfo("America/New_York")
    picked = (
        (timezone.now() + timedelta(days=2))
        .astimezone(zone)
        .replace(hour=10, minute=30, second=0, microsecond=0)
    )
    for account in accounts.values():
        response = post(
            client,
            account,
            recipients="+14152345678",
            text=f"Later from {account.username}",
            schedule=picked.strftime("%Y-%m-%dT%H:%M"),
        )
        assert response.status_code == 302
    stored = {q.user.username: q.scheduled for q in Queue.objects.select_related("user")}
    expected = picked.astimezone(zoneinfo.ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M:%S")
    assert stored == {"east": expected, "west": expected}
    schedules = {p["u"]: p["schedule"] for p in sent(sandbox)}
    assert schedules["east"] != schedules["west"]  # each in its own account's zone
    for send in Send.objects.all():
        assert send.scheduled_for == picked and send.scheduled_zone == "America/New_York"
    page = client.get(reverse("sending:scheduled")).content.decode()
    assert "Later from east" in page and "no operation to cancel a scheduled message" in page
    # Listed until the sync shows them sent.
    sandbox.settle(seconds=3 * 24 * 3600)
    for account in accounts.values():
        sync.pull(cursor=cursor_of(account, Feed.OUTGOING))
    page = client.get(reverse("sending:scheduled")).content.decode()
    assert "Later from east" not in page and "Later from west" not in page


def test_past_and_far_schedules_are_refused(world, client):
    sandbox, rita, user = world
    client.force_login(user)
    past = timezone.localtime() - timedelta(minutes=5)
    response = post(
        client, rita, recipients="+14152345678", text="x", schedule=past.strftime("%Y-%m-%dT%H:%M")
    )
    assert response.context["form"].errors["schedule"] == [
        "That time is in the past: pick a time to come."
    ]
    far = timezone.localtime() + timedelta(days=400)
    response = post(
        client, rita, recipients="+14152345678", text="x", schedule=far.strftime("%Y-%m-%dT%H:%M")
    )
    assert response.context["form"].errors["schedule"] == ["Schedule at most one year ahead."]
    assert not sent(sandbox) and not Send.objects.exists()


def test_error_paths_in_plain_words(world, client, operator_user):
    sandbox, rita, user = world
    client.force_login(user)
    # empty message
    response = post(client, rita, recipients="+14152345678", text="   ")
    assert "This field is required." in response.context["form"].errors["text"][0] or (
        response.context["form"].errors["text"] == ["Enter the message."]
    )
    # sender that is not the configured one: a warning to confirm, then it goes
    response = post(client, rita, recipients="+14152345678", text="Hi", sender="Other")
    assert response.status_code == 200 and not sent(sandbox)
    assert "BearSMS silently replaces a sender ID" in response.content.decode()
    response = post(
        client, rita, recipients="+14152345678", text="Hi", sender="Other", confirmed="on"
    )
    assert response.status_code == 302 and sent(sandbox)[-1]["from"] == "Other"
    # a stoplisted number the portal knows about: refused before sending
    StoplistNumber.objects.create(number="14152345699", typed="+1 415 234 5699")
    response = post(client, rita, recipients="+14152345699", text="Hi")
    assert "On the stoplist" in response.context["form"].errors["recipients"][0]
    # a message the server reads as empty ("0"): ERR 201 in plain words
    post(client, rita, recipients="+14152345678", text="0")
    destination = Send.objects.latest("id").destinations.get()
    assert destination.state == State.REFUSED
    assert destination.reason == "The server found the destination or the message empty (ERR 201)."
    # a number stoplisted outside the portal: the server's ERR 200, in plain words
    sandbox.stoplist("14152345698")
    before = len(sent(sandbox))
    post(client, rita, recipients="+14152345698", text="Stopped")
    destination = Send.objects.latest("id").destinations.get()
    assert len(sent(sandbox)) == before + 1
    assert destination.state == State.REFUSED
    assert destination.reason == "The server refused it (ERR 200): the number is on the stoplist."
    # no credit on the server (ERR 103 in the documented profile)
    sandbox.set_rate("1", 1)
    sandbox.set_credit("rita", 0)
    post(client, rita, recipients="+14152345678", text="No credit")
    destination = Send.objects.latest("id").destinations.get()
    assert destination.state == State.REFUSED and "Not enough credit" in destination.reason
    # known balance too low: refused for a reseller, "send anyway" for an operator
    BearSMSAccount.objects.filter(pk=rita.pk).update(balance_base=1, balance_base_at=timezone.now())
    response = post(client, rita, recipients="+14152345678 +14152345679", text="Two")
    assert "Ask for more credit first" in response.context["form"].errors["recipients"][0]
    client.force_login(operator_user)
    response = post(client, rita, recipients="+14152345678 +14152345679", text="Two")
    assert response.status_code == 200 and "Send anyway" in response.content.decode()
    # banned and not linked
    BearSMSAccount.objects.filter(pk=rita.pk).update(status="banned")
    response = post(client, rita, recipients="+14152345678", text="Hi")
    assert response.context["form"].errors["account"] == [
        "Not sent: you cannot send as rita. "
        "The account is banned on BearSMS: unban it to send as it."
    ]
    from messaging.services import sending

    rita.refresh_from_db()
    with pytest.raises(sending.ServiceError, match="banned on BearSMS"):
        sending.send_message(actor=operator_user, account=rita, recipients="+14152345678", text="x")
    BearSMSAccount.objects.filter(pk=rita.pk).update(status="active", token_encrypted="")
    rita.refresh_from_db()
    with pytest.raises(sending.ServiceError, match="not linked"):
        sending.send_message(actor=operator_user, account=rita, recipients="+14152345678", text="x")


def test_the_real_servers_empty_500_is_worded_honestly(sandbox_playsms, eager):
    """playSMS 1.4.8 answers a stoplisted number (or no credit) with an empty HTTP 500."""
    from messaging.services import sending

    rita = link_account(sandbox_playsms, "rita", credit=1000)
    user = portal_user("rita-portal", role="reseller", account=rita)
    sandbox_playsms.stoplist("14152345698")
    send = sending.send_message(actor=user, account=rita, recipients="+14152345698", text="x")
    destination = send.destinations.get()
    assert destination.state == State.REFUSED
    assert destination.reason == (
        "The server refused to queue this message: invalid number, stoplisted number or not "
        "enough credit (it does not say which)."
    )
    [request] = sandbox_playsms.requests("pv")
    assert request.http_status == 500
    for to, words in (("#nosuchgroup", "no phonebook group"), ("@nobody-here", "no such account")):
        send = sending.send_message(actor=user, account=rita, recipients=to, text="x")
        destination = send.destinations.get()
        assert destination.state == State.REFUSED and words in destination.reason


def test_sent_list_is_scoped(world, client):
    sandbox, rita, user = world
    other = link_account(sandbox, "other", credit=100)
    other_user = portal_user("other-portal", role="reseller", account=other)
    client.force_login(user)
    post(client, rita, recipients="+14152345678", text="Mine")
    send = only_send()
    assert "Mine" in client.get(reverse("sending:list")).content.decode()
    client.force_login(other_user)
    assert "Mine" not in client.get(reverse("sending:list")).content.decode()
    assert client.get(reverse("sending:detail", args=[send.pk])).status_code == 404
    assert client.get(reverse("sending:status", args=[send.pk])).status_code == 404


def test_contact_picker_searches_the_phonebook_cached_for_a_minute(world, client):
    sandbox, rita, user = world
    sandbox.add_group("rita", "Store managers", "MANAGERS")
    sandbox.add_contact("rita", "Mandy Moore", "+14152345670", groups=["MANAGERS"])
    sandbox.add_contact("rita", "Zed", "+14152345671")
    client.force_login(user)
    url = reverse("sending:contacts")
    found = client.get(url, {"account": rita.pk, "q": "man"}).json()["results"]
    assert {"label": "#MANAGERS — Store managers (group)", "value": "#MANAGERS"} in found
    assert {"label": "Mandy Moore — +14152345670", "value": "+14152345670"} in found
    asked = len(sandbox.requests("get_contact"))
    assert client.get(url, {"account": rita.pk, "q": "man"}).json()["results"] == found
    assert len(sandbox.requests("get_contact")) == asked  # from the cache
    other = link_account(sandbox, "other")
    assert client.get(url, {"account": other.pk, "q": "man"}).status_code == 404


def test_settling_an_unknown_by_hand_from_the_send_page(world, client, settings):
    sandbox, rita, user = world
    settings.BEARSMS_TIMEOUT = 1
    settings.SANDBOX_HANG_SECONDS = 2
    sandbox.set_fault("pv", "hang", 1.0)
    client.force_login(user)
    post(client, rita, recipients="+14152345678", text="Hand")
    wait_for_logged(sandbox, 1)
    sandbox.clear_faults()
    send = only_send()
    destination = send.destinations.get()
    assert destination.state == State.UNKNOWN
    page = client.get(reverse("sending:detail", args=[send.pk])).content.decode()
    assert "Outcome unknown" in page and "Resend" in page and "It arrived" in page
    other = link_account(sandbox, "other")
    other_user = portal_user("other-portal", role="reseller", account=other)
    client.force_login(other_user)
    url = reverse("sending:resend", args=[send.pk, destination.pk])
    assert client.post(url).status_code == 404
    client.force_login(user)
    response = client.post(url)
    assert response.status_code == 302
    assert send.destinations.filter(state=State.SUBMITTED).count() == 1
    assert AuditEntry.objects.filter(action="resend", outcome="success").count() == 1
    response = client.post(
        reverse("sending:resolve", args=[send.pk, destination.pk]), {"submitted": "1"}
    )
    assert "already known" in [str(m) for m in response.wsgi_request._messages][-1]


def test_the_same_form_sent_twice_sends_once(world, client):
    """A double click or back-and-resend: the one-time form key finds the first send."""
    sandbox, rita, user = world
    client.force_login(user)
    key = str(uuid.uuid4())
    first = post(client, rita, recipients="+14152345678", text="Once", form_key=key)
    again = post(client, rita, recipients="+14152345678", text="Once", form_key=key)
    send = only_send()
    assert first["Location"] == again["Location"] == reverse("sending:detail", args=[send.pk])
    assert len(sent(sandbox)) == 1
    assert AuditEntry.objects.filter(action="pv", outcome="success").count() == 1
    # Without a key (an out-of-date page): shown again with a fresh key, nothing sent.
    response = post(client, rita, recipients="+14152345678", text="Once", form_key="")
    assert response.status_code == 200 and "out of date" in response.content.decode()
    assert Send.objects.count() == 1
    # Someone else's key is refused.
    other = portal_user("other-portal", role="reseller", account=link_account(sandbox, "otherco"))
    client.force_login(other)
    response = post(client, rita, recipients="+14152345678", text="Once", form_key=key)
    assert response.status_code in (200, 403) and len(sent(sandbox)) == 1
