"""Issue 11, feedback: audit entries of the server-wide tools name the number, each account page
links to that account's messages, a reseller's dashboard and menu speak to a reseller (its
subaccounts, its scoped audit log), and the dashboard says what its received count covers."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import services
from accounts.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_stoplist_and_inject_entries_name_the_number(client, world):
    op = world.operator
    services.stoplist_add(actor=op, number="+62 812 0000 0001")
    services.inject_message(actor=op, sender="+628120000002", message="hello", recvnum="1234")
    client.force_login(op)
    table = client.get(reverse("accounts:audit")).context["table"]
    subject = {row.record.action: row.get_cell("target_username") for row in table.rows}
    assert subject["stoplist"] == "6281200000001"
    assert subject["inject"] == "+628120000002"
    assert AuditEntry.objects.get(action="inject").message == (
        "Test SMS from +628120000002 queued to 1234."
    )
    entry = AuditEntry.objects.get(action="stoplist")
    assert entry.target_username == "" and entry.subject == "6281200000001"
    export = client.get(reverse("accounts:audit_export"))
    csv_text = b"".join(export.streaming_content).decode()
    assert "6281200000001" in csv_text


def test_account_page_links_to_its_messages(client, world):
    client.force_login(world.user_a)
    account = world.sub_a
    html = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    for slug in ("outgoing", "incoming", "inbox"):
        link = f"{reverse('messaging:list', args=[slug])}?account={account.pk}"
        assert f'href="{link}"' in html
        page = client.get(link)
        assert page.status_code == 200 and not page.context["filter"].errors


def test_reseller_sees_your_subaccounts_and_its_scoped_audit_log(client, world):
    client.force_login(world.user_a)
    home = client.get(reverse("home")).content.decode()
    assert "Your subaccounts" in home and "Resellers and their subaccounts" not in home
    assert "Incoming + inbox today" in home
    assert f'href="{reverse("accounts:audit")}"' in home  # in the reseller's menu
    audit = client.get(reverse("accounts:audit"))
    assert audit.status_code == 200
    targets = {row.target_username for row in audit.context["table"].data}
    assert targets and targets <= {"resa", "resa-sub"}
    client.force_login(world.operator)
    home = client.get(reverse("home")).content.decode()
    assert "Resellers and their subaccounts" in home


def test_a_subaccount_has_no_audit_entry_in_its_menu(client, world):
    client.force_login(world.user_sub_a)
    assert f'href="{reverse("accounts:audit")}"' not in client.get(reverse("home")).content.decode()
