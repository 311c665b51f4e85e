"""The configuration page changes one field and every other field on the server keeps its value
(admin, imported account, portal-created account); an unknown footer or sender is refused with
the message that asks for it (issue 13, acceptance 1; both sandbox profiles)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import configuration, services
from accounts.errors import ServiceError
from accounts.forms import ConfForm
from accounts.models import BearSMSAccount
from bearsms_portal.sandbox.services.accounts import approve_sender_id

from .conftest import make_account

SERVER_FIELDS = (
    "footer",
    "sender",
    "datetime_timezone",
    "language_module",
    "fwd_to_inbox",
    "fwd_to_email",
    "fwd_to_mobile",
    "local_length",
    "replace_zero",
)


def server_conf(sandbox, username) -> dict:
    row = sandbox.user(username)
    return {field: getattr(row, field) for field in SERVER_FIELDS}


def as_browser_posts(account: BearSMSAccount, **changes) -> dict:
    """What the page posts when the user changes ``changes`` and touches nothing else."""
    form = ConfForm(account=account)
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if isinstance(value, bool) and name.endswith("_empty"):
            if value:
                data[name] = "on"
            continue
        data[name] = "" if value is None else value
    data.update(changes)
    return data


def sent_params(sandbox) -> set[str]:
    params = sandbox.requests("accountconf")[-1].params
    data = {key: value for key, value in params.items() if key.startswith("data_")}
    return {key for key, value in data.items() if value not in (None, "")} | {
        key for key in ("data_footer", "data_sender") if key in data
    }


def post_conf(client, account, data):
    return client.post(reverse("accounts:conf", args=[account.pk]), data)


def test_new_accounts_match_the_servers_defaults(sandbox, operator_user):
    pia = make_account(operator_user, sandbox, "pia", link=False)
    assert server_conf(sandbox, "pia") == {
        "footer": "@pia",
        "sender": "",
        "datetime_timezone": "",
        "language_module": "",
        "fwd_to_inbox": True,
        "fwd_to_email": True,
        "fwd_to_mobile": False,
        "local_length": 9,
        "replace_zero": "",
    }
    local = {field: getattr(pia, field) for field in configuration.FIELDS}
    assert local == configuration.new_account_defaults("pia")
    assert configuration.known_fields(pia) == set(configuration.FIELDS)


def test_portal_created_account_changes_one_field(sandbox, operator_user, client):
    pia = make_account(operator_user, sandbox, "pia")
    before = server_conf(sandbox, "pia")
    client.force_login(operator_user)
    response = post_conf(client, pia, as_browser_posts(pia, timezone="+0100"))
    assert response.status_code == 302, response.context["form"].errors

    assert server_conf(sandbox, "pia") == {**before, "datetime_timezone": "+0100"}
    # Only the changed field, plus footer and sender, went to the server.
    assert sent_params(sandbox) == {
        "data_username",
        "data_footer",
        "data_sender",
        "data_datetime_timezone",
    }
    params = sandbox.requests("accountconf")[-1].params
    assert (params["data_footer"], params["data_sender"]) == ("@pia", "")


@pytest.mark.parametrize("who", ["imported", "admin"])
def test_unknown_footer_and_sender_are_asked_for(sandbox, operator_user, client, who):
    if who == "admin":
        username = sandbox.admin_username
        footer, sender = "@admin", "playSMS"  # the shipped admin's configuration
    else:
        username = "ivy"
        sandbox.create_user("ivy")
        row = sandbox.user("ivy")
        approve_sender_id(row, "IVYCO")
        row.footer, row.sender, row.datetime_timezone = "@ivy shop", "IVYCO", "+0700"
        row.language_module, row.replace_zero = "id_ID", "62"
        row.fwd_to_email, row.fwd_to_mobile, row.local_length = False, True, 12
        row.save()
        footer, sender = "@ivy shop", "IVYCO"
    level = BearSMSAccount.Level.ADMIN if who == "admin" else BearSMSAccount.Level.USER
    zone = "+0700" if who == "imported" else ""  # confirmed at import, as set in BearSMS
    account = services.account_import(
        actor=operator_user, username=username, level=level, timezone_offset=zone
    )
    before = server_conf(sandbox, username)
    requests_before = len(sandbox.requests("accountconf"))

    client.force_login(operator_user)
    page = client.get(reverse("accounts:detail", args=[account.pk])).text
    # Only the time zone is known: it was confirmed at import ('' = the server's zone).
    assert configuration.known_fields(account) == {"timezone"}
    assert page.count(">unknown<") == len(configuration.FIELDS) - 1

    # Only the language changed: footer and sender are unknown, so the page asks for them.
    response = post_conf(client, account, as_browser_posts(account, language="en_GB"))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert configuration.UNKNOWN_FOOTER in errors["footer"]
    assert "current footer cannot be read through the API — type it" in response.text
    assert len(sandbox.requests("accountconf")) == requests_before  # nothing was sent
    assert server_conf(sandbox, username) == before
    with pytest.raises(ServiceError) as info:
        services.account_conf(actor=operator_user, account=account, footer=footer)
    assert info.value.field == "sender" and info.value.message == configuration.UNKNOWN_SENDER

    # Typed in: the language changes, and everything else on the server keeps its value.
    data = as_browser_posts(account, language="en_GB", footer=footer, sender=sender)
    response = post_conf(client, account, data)
    assert response.status_code == 302, response.context["form"].errors
    assert server_conf(sandbox, username) == {**before, "language_module": "en_GB"}
    assert sent_params(sandbox) == {
        "data_username",
        "data_footer",
        "data_sender",
        "data_language_module",
    }
    account.refresh_from_db()
    assert configuration.known_fields(account) == {"footer", "sender", "language", "timezone"}
    page = client.get(reverse("accounts:detail", args=[account.pk])).text
    assert page.count(">unknown<") == len(configuration.FIELDS) - 4

    # Next time only the changed field is typed: footer and sender are known now.
    response = post_conf(client, account, as_browser_posts(account, local_length="10"))
    assert response.status_code == 302, response.context["form"].errors
    assert server_conf(sandbox, username) == {
        **before,
        "language_module": "en_GB",
        "local_length": 10,
    }


def test_an_empty_sender_is_confirmed_not_assumed(sandbox, operator_user, client):
    sandbox.create_user("uma")
    uma = services.account_import(actor=operator_user, username="uma")
    client.force_login(operator_user)
    data = as_browser_posts(uma, timezone="+0100", footer="@uma")
    response = post_conf(client, uma, data)
    assert configuration.UNKNOWN_SENDER in response.context["form"].errors["sender"]
    response = post_conf(client, uma, {**data, "sender_empty": "on"})
    assert response.status_code == 302, response.context["form"].errors
    assert sandbox.user("uma").datetime_timezone == "+0100"


def test_a_known_zone_cannot_be_cleared(sandbox, operator_user):
    pia = make_account(operator_user, sandbox, "pia", link=False, timezone_offset="+0100")
    with pytest.raises(ServiceError) as info:
        services.account_conf(actor=operator_user, account=pia, timezone="")
    assert info.value.field == "timezone" and "cannot clear" in info.value.message


def test_time_zone_is_chosen_from_a_list_of_offsets_named_by_zones(sandbox, operator_user, client):
    pia = make_account(operator_user, sandbox, "pia")
    client.force_login(operator_user)
    page = client.get(reverse("accounts:conf", args=[pia.pk])).content.decode()
    assert '<select name="timezone"' in page
    assert '<option value="+0700">UTC+07:00 — ' in page  # named by the zones that have it
    refused = post_conf(client, pia, as_browser_posts(pia, timezone="+7"))
    assert refused.status_code == 200 and "timezone" in refused.context["form"].errors
    response = post_conf(client, pia, as_browser_posts(pia, timezone="+0700"))
    assert response.status_code == 302
    assert sandbox.user("pia").datetime_timezone == "+0700"


def test_an_unknown_time_zone_leaves_it_and_an_odd_known_offset_is_kept():
    unknown = ConfForm(account=BearSMSAccount(username="unk", conf_known=[]))
    assert unknown.fields["timezone"].choices[0] == ConfForm.UNKNOWN_CHOICE
    odd = BearSMSAccount(username="odd", timezone="+0715", conf_known=["timezone"])
    form = ConfForm(account=odd)
    assert ("+0715", "UTC+07:15") in form.fields["timezone"].choices
    assert form.initial["timezone"] == "+0715"
