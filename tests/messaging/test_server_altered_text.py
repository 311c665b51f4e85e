"""Text the server changed: shown as the server holds it, with one sentence saying so."""

from __future__ import annotations

from django.urls import reverse

from accounts import services
from accounts.clients import client_for
from messaging import sync
from messaging.models import Feed, IncomingMessage, OutgoingMessage, SyncCursor

from .conftest import link_account, portal_user

SENTENCE = "the server turns double quotes into single quotes"


def test_quotes_and_ampersands_changed_by_the_server(client, live_sandbox):
    sandbox = live_sandbox  # the sync fetches in a thread of its own: real HTTP
    op = portal_user("op", role="operator")
    alice = link_account(sandbox, "alice", credit=100)
    client_for(alice).send_message("628123450001", 'say "cheese"')
    client_for(alice).send_message("628123450002", "plain text")
    sandbox.add_keyword("alice", "IDOL", scenarios={"A": "thanks"})
    services.inject_message(actor=op, sender="+628999000111", message="IDOL A fish & chips")
    sandbox.settle(60)
    sync.ensure_cursors()
    for cursor in SyncCursor.objects.select_related("account"):
        sync.pull(cursor=cursor)

    quoted = OutgoingMessage.objects.get(dst="628123450001")
    plain = OutgoingMessage.objects.get(dst="628123450002")
    injected = IncomingMessage.objects.get(account=alice, feed=Feed.INCOMING)
    assert quoted.text == "say 'cheese'"  # what the server holds, not what was typed
    assert injected.text == "A fish &amp; chips"

    client.force_login(op)

    def page(feed, row):
        return client.get(reverse("messaging:detail", args=[feed, row.pk])).text

    assert SENTENCE in page(Feed.OUTGOING, quoted)
    html = page(Feed.INCOMING, injected)
    assert SENTENCE in html and "A fish &amp;amp; chips" in html
    assert SENTENCE not in page(Feed.OUTGOING, plain)
