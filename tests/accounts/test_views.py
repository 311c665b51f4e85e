"""The accounts pages end to end (browser-less): forms, confirmations, messages next to fields,
exports and the Django admin, against the sandbox."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from accounts.models import AuditEntry, BearSMSAccount

from .conftest import PASSWORD, Level, enable_on_server, keyed

pytestmark = pytest.mark.django_db


def url(name, account=None):
    return reverse(f"accounts:{name}", kwargs={"pk": account.pk} if account else None)


def test_operator_creates_an_account_and_links_it(world, client):
    client.force_login(world.operator)
    data = {
        "username": "newco",
        "password": PASSWORD,
        "name": "New Co",
        "email": "newco@example.org",
        "level": Level.USER,
        "parent": "",
    }
    response = client.post(url("create"), keyed(data))
    account = BearSMSAccount.objects.get(username="newco")
    assert response.status_code == 302 and response["Location"] == url("detail", account)
    page = client.get(response["Location"]).content.decode()
    assert "not linked" in page and "no webservices token yet" in page and "Link now" in page
    assert "Sending as this account and syncing its traffic wait until it is linked" in page

    # The same username again: the message sits next to the field.
    response = client.post(url("create"), keyed(data))
    assert response.status_code == 200
    assert response.context["form"].errors["username"] == ["The username “newco” is already taken."]

    enable_on_server(world.sandbox, "newco")
    response = client.post(url("link", account), keyed({"password": ""}))
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.is_linked


def test_server_errors_show_next_to_the_field(world, client):
    client.force_login(world.operator)
    world.sandbox.create_user("taken", email="taken@example.org")
    response = client.post(
        url("create"),
        keyed(
            {
                "username": "other",
                "password": PASSWORD,
                "name": "O",
                "email": "taken@example.org",
                "level": Level.USER,
            }
        ),
    )
    assert response.status_code == 200
    assert "already used" in response.context["form"].errors["email"][0]
    assert "invalid-feedback" in response.content.decode()

    response = client.post(
        url("conf", world.sub_b), keyed({"sender": "NOTMINE", "footer": "x", "local_length": 9})
    )
    assert "sender" in response.context["form"].errors


def test_destructive_ops_ask_first(world, client):
    client.force_login(world.operator)
    sub = world.sub_b
    page = client.get(url("ban", sub)).content.decode()
    assert "Ban this account?" in page and "csrfmiddlewaretoken" in page
    assert not BearSMSAccount.objects.get(pk=sub.pk).is_banned
    assert client.post(url("ban", sub), keyed()).status_code == 302
    assert BearSMSAccount.objects.get(pk=sub.pk).is_banned
    page = client.get(url("detail", sub)).content.decode()
    assert "banned" in page and "Unban" in page

    # Log in as is refused for a banned account, with a message.
    response = client.post(url("open", sub), follow=True)
    assert "banned" in response.content.decode()

    # Remove needs the username typed.
    response = client.post(url("remove", sub), keyed({"confirm_username": "nope"}))
    assert response.status_code == 200 and BearSMSAccount.objects.filter(pk=sub.pk).exists()
    response = client.post(url("remove", sub), keyed({"confirm_username": sub.username}))
    assert response.status_code == 302 and response["Location"] == url("list")
    assert not BearSMSAccount.objects.filter(pk=sub.pk).exists()


def test_one_click_actions_and_open_in_bearsms(world, client):
    client.force_login(world.operator)
    response = client.post(url("credit_refresh", world.reseller_a), follow=True)
    assert "Balance of resa" in response.content.decode()
    response = client.post(url("parent_get", world.sub_a), follow=True)
    assert "the parent of resa-sub is resa" in response.content.decode()
    response = client.post(url("open", world.reseller_a))
    assert response.status_code == 302
    assert response["Location"].startswith(world.sandbox.url + "/index.php?")
    assert "op=ws_login" in response["Location"]


def test_reseller_pages(world, client):
    client.force_login(world.user_a)
    page = client.get(url("list")).content.decode()
    assert "resa-sub" in page and "resb" not in page and "New subaccount" in page
    form = client.get(url("create")).context["form"]
    assert "level" not in form.fields and "parent" not in form.fields
    response = client.post(
        url("create"),
        keyed(
            {
                "username": "resa-new",
                "password": PASSWORD,
                "name": "Sub",
                "email": "resa-new@example.org",
            }
        ),
    )
    new = BearSMSAccount.objects.get(username="resa-new")
    assert response.status_code == 302
    assert (new.parent, new.level, new.created_by) == (
        world.reseller_a,
        Level.SUBACCOUNT,
        world.user_a,
    )
    detail = client.get(url("detail", world.sub_a)).content.decode()
    for label in ("Ban", "Preferences", "Configuration", "Transfer credit", "Log in as"):
        assert label in detail
    assert "Remove" not in detail and "Rotate token" not in detail
    response = client.post(
        url("credit_transfer", world.sub_a),
        keyed({"direction": "to_sub", "amount": "10", "reason": "campaign"}),
        follow=True,
    )
    assert "Moved 10 from resa to resa-sub" in response.content.decode()
    own_page = client.get(url("detail", world.reseller_a)).content.decode()
    assert "credittransfer" in own_page  # the move shows on both accounts
    assert client.get(url("remove", world.sub_a)).status_code == 403
    assert client.get(url("ban", world.reseller_a)).status_code == 403  # its own account
    assert client.get(url("inject")).status_code == 403


def test_audit_and_ledger_pages_filter_and_export(world, client):
    client.force_login(world.operator)
    page = client.get(url("audit"), {"action": "accountadd"}).content.decode()
    assert "accountadd" in page and "creditadd" not in page.split("<table")[1]
    response = client.get(url("audit_export"), {"outcome": "failure"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:3] == ["created_at (UTC)", "actor", "action"]  # the reader's zone named
    assert all(row[4] == "failure" for row in rows[1:]) and len(rows) > 1
    response = client.get(url("ledger_export"), {"account": "resa"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [row[1] for row in rows[1:]] == ["resa"]
    response = client.get(url("account_ledger_export", world.reseller_b))
    assert b"resb" in b"".join(response.streaming_content)
    response = client.get(url("list_export"), {"level": Level.SUBACCOUNT})
    body = b"".join(response.streaming_content).decode()
    assert "resa-sub" in body and "\nresa," not in body


def test_django_admin_is_read_only_for_the_logs(world, client):
    client.force_login(world.operator)
    entry = AuditEntry.objects.first()
    assert client.get(reverse("admin:accounts_auditentry_changelist")).status_code == 200
    change = client.get(reverse("admin:accounts_auditentry_change", args=[entry.pk]))
    assert change.status_code == 200 and b'name="_save"' not in change.content
    assert client.get(reverse("admin:accounts_auditentry_add")).status_code == 403
    assert client.get(reverse("admin:accounts_creditledgerentry_add")).status_code == 403
    assert (
        client.post(
            reverse("admin:accounts_auditentry_delete", args=[entry.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    response = client.post(
        reverse("admin:accounts_bearsmsaccount_changelist"),
        {"action": "refresh_credit", "_selected_action": [world.reseller_a.pk]},
        follow=True,
    )
    assert b"credit refreshed" in response.content


def test_navigation_by_role(world, client):
    client.force_login(world.operator)
    nav = client.get(reverse("home")).content.decode()
    assert "Audit log" in nav and "All accounts" in nav
    client.force_login(world.user_a)
    nav = client.get(reverse("home")).content.decode()
    assert "My subaccounts" in nav and "Audit log" in nav  # its own and its subaccounts' entries
    client.force_login(world.user_sub_a)
    nav = client.get(reverse("home")).content.decode()
    assert "My account" in nav and "My subaccounts" not in nav


def test_forms_need_the_csrf_token(world):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.operator)
    assert browser.post(url("ban", world.sub_a)).status_code == 403
    assert browser.post(url("credit_refresh", world.sub_a)).status_code == 403
    assert not BearSMSAccount.objects.get(pk=world.sub_a.pk).is_banned


def test_users_refresh_their_own_credit(world, client):
    for user, account in ((world.user_a, world.reseller_a), (world.user_sub_a, world.sub_a)):
        client.force_login(user)
        assert "Refresh" in client.get(url("detail", account)).content.decode()
        response = client.post(url("credit_refresh", account), follow=True)
        assert f"Balance of {account.username}" in response.content.decode()
    assert client.post(url("credit_refresh", world.reseller_a)).status_code == 404
