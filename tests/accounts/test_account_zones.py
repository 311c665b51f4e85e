"""Each account's own time zone (issue 13, acceptance 2; reference §1.7 and §4.1.6).

The server reads ``schedule`` in the sending account's zone and stores ``in``/``sx``/``ix``
times shifted back by the receiving account's zone (``@user`` inbox rows by the sender's);
negative zones count as +0000. For accounts on +0100, +0700 and −0500 (created by the portal)
and an imported account whose zone was confirmed at import, the incoming, inbox (keyword and
``@user``), outgoing and scheduled instants the portal stores equal what the server means.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from accounts import services
from accounts.clients import client_for
from bearsms_portal.sandbox import clock
from bearsms_portal.sandbox.models import Outgoing
from messaging import sync
from messaging.models import Feed, IncomingMessage, OutgoingMessage, SyncCursor

from .conftest import PASSWORD, enable_on_server, make_account

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _server_clock(request, settings):
    """The portal is told the server's clock zone, as a deployment like the captures' must be
    (``BEARSMS_SERVER_TZ``): the 1.4.8 profile's PHP clock runs at +0000."""
    if "sandbox" in request.fixturenames:
        sandbox = request.getfixturevalue("sandbox")
        settings.BEARSMS_SERVER_TZ = "+0000" if sandbox.profile == "playsms-1.4.8" else ""


def _second(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


def _pull(account, feed):
    sync.ensure_cursors()
    cursor = SyncCursor.objects.select_related("account").get(account=account, feed=feed)
    result = sync.pull(cursor=cursor)
    assert not result.error


def _account(sandbox, operator, username, zone, how):
    if how == "created":
        return make_account(operator, sandbox, username, timezone_offset=zone)
    sandbox.create_user(username, password=PASSWORD, webservices=False, timezone_=zone)
    enable_on_server(sandbox, username)
    account = services.account_import(
        actor=operator, username=username, password=PASSWORD, timezone_offset=zone
    )
    assert account.is_linked and account.timezone == zone
    return account


@pytest.mark.parametrize(
    ("zone", "how"),
    [("+0100", "created"), ("+0700", "created"), ("-0500", "created"), ("+0300", "imported")],
)
def test_times_of_an_account_with_its_own_zone(sandbox, operator_user, zone, how):
    name = {"+0100": "paris", "+0700": "jakarta", "-0500": "boston", "+0300": "moscow"}[zone]
    account = _account(sandbox, operator_user, name, zone, how)
    sandbox.set_credit(name, 100)
    # A sender of @user messages with its own zone (+0530), and one without (the gateway's).
    mumbai = make_account(operator_user, sandbox, "mumbai", timezone_offset="+0530")
    plain = make_account(operator_user, sandbox, "plain")

    # Incoming (in) through a keyword, and an inbox copy (ix) through an inbox keyword.
    sandbox.add_keyword(name, "HELLO", scenarios={"A": "thanks"})
    sandbox.add_keyword(name, "BOX", feature="inbox")
    incoming = sandbox.inject_incoming("+628111000001", "HELLO A")
    boxed = sandbox.inject_incoming("+628111000002", "BOX note")
    # @user inbox rows from senders with and without their own zone.
    before = _second(timezone.now())
    client_for(mumbai).send_message(f"@{name}", "from mumbai")
    client_for(plain).send_message(f"@{name}", "from plain")
    after = _second(timezone.now()) + timedelta(seconds=1)

    _pull(account, Feed.INCOMING)
    _pull(account, Feed.INBOX)
    rows = IncomingMessage.objects.filter(account=account)
    got_in = rows.get(feed=Feed.INCOMING, src="+628111000001").received_at
    assert got_in == _second(incoming.received_at)
    got_box = rows.get(feed=Feed.INBOX, src="+628111000002").received_at
    assert got_box == _second(boxed.received_at)
    for text in ("from mumbai", "from plain"):
        at = rows.get(feed=Feed.INBOX, text=text).received_at
        assert before <= at <= after, (text, at, before, after)

    # Outgoing: ds times are GMT+0, whatever the account's zone.
    client_for(account).send_message("628123450001", "now")
    dispatch = _second(timezone.now()) + timedelta(seconds=5)
    sandbox.tick(now=dispatch)
    # Scheduled: 16:15:30 UTC tomorrow is queued for exactly that instant.
    meant = (timezone.now() + timedelta(days=1)).astimezone(UTC)
    meant = meant.replace(hour=16, minute=15, second=30, microsecond=0)
    client_for(account).send_message("628123450002", "later", schedule=meant)
    assert sandbox.tick(now=meant - timedelta(seconds=30)).dispatched == 0
    assert sandbox.tick(now=meant + timedelta(seconds=2)).dispatched == 1
    assert Outgoing.objects.get(dst="628123450002").dispatched_at == meant + timedelta(seconds=2)

    _pull(account, Feed.OUTGOING)
    sent = {m.text: m.dispatched_at for m in OutgoingMessage.objects.filter(account=account)}
    assert sent["now"] == dispatch
    assert sent["later"] == meant + timedelta(seconds=2)


def test_the_sandbox_follows_the_reference(settings):
    """§1.7's measured rows, in the captures' deployment (clock UTC, gateway +0700)."""
    from bearsms_portal.sandbox import profiles

    settings.SANDBOX_PROFILE = profiles.PLAYSMS_148
    sw = profiles.current()
    at = datetime(2026, 11, 28, 15, 14, 28, tzinfo=UTC)
    assert clock.incoming_dt(at, "+0100", sw) == "2026-11-28 21:14:28"
    assert clock.incoming_dt(at, "+0700", sw) == "2026-11-28 15:14:28"
    assert clock.incoming_dt(at, "", sw) == "2026-11-28 15:14:28"  # no own zone
    assert clock.incoming_dt(at, "-0500", sw) == "2026-11-28 22:14:28"  # counts as +0000
    # @user rows: "GMT+0" shifted back by the sender's zone (capture 142: sent 09:09 UTC by
    # the admin, which follows the gateway's +0700, read 19:09 the day before).
    sent = datetime(2026, 11, 28, 9, 9, 38, tzinfo=UTC)
    assert clock.user_message_dt(sent, "", sw) == "2026-11-27 19:09:38"
    assert clock.user_message_dt(sent, "+0100", sw) == "2026-11-28 01:09:38"
    # schedule: due when the server's wall clock reaches schedule − account offset + gateway
    # offset (§4.1.6): with the clock at UTC, +0100's "10:15:30" is due at 16:15:30 UTC.
    due = clock.parse_schedule("2030-01-02 10:15:30", "+0100", at, sw)
    assert due == clock.fmt(clock.gmt0(datetime(2030, 1, 2, 16, 15, 30, tzinfo=UTC), sw))
    # The bug: the text written for the gateway's zone ("16:15:30" for 16:15:30 UTC)
    # is due at 22:15:30 UTC for an account on +0100.
    late = clock.parse_schedule("2030-01-02 16:15:30", "+0100", at, sw)
    assert late == clock.fmt(clock.gmt0(datetime(2030, 1, 2, 22, 15, 30, tzinfo=UTC), sw))


def test_changing_the_recorded_zone_keeps_stored_instants(sandbox, operator_user):
    account = make_account(operator_user, sandbox, "rhea", timezone_offset="+0100")
    sandbox.add_keyword("rhea", "HELLO", scenarios={"A": "thanks"})
    first = sandbox.inject_incoming("+628111000003", "HELLO A")
    _pull(account, Feed.INCOMING)

    # The zone is changed in BearSMS (web UI) and recorded in the portal.
    row = sandbox.user("rhea")
    row.datetime_timezone = "+0900"
    row.save()
    account = services.account_zone_record(
        actor=operator_user, account=account, timezone_offset="+0900"
    )
    second = sandbox.inject_incoming("+628111000004", "HELLO A")
    sync.pull(cursor=SyncCursor.objects.get(account=account, feed=Feed.INCOMING), sweep=True)

    got = {
        m.src: m.received_at
        for m in IncomingMessage.objects.filter(account=account, feed=Feed.INCOMING)
    }
    assert got["+628111000003"] == _second(first.received_at)
    assert got["+628111000004"] == _second(second.received_at)
