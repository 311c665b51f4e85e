"""Every ERR code of the admin ops (and of get_token), produced on the sandbox, becomes a
message in plain words — next to the right field where there is one.

Some codes cannot be reached through the portal's services because their forms refuse the input
first (an empty username, a zero amount, no data); they are produced here with the raw op.
"""

from __future__ import annotations

import pytest

from accounts.clients import admin_client
from accounts.errors import explain
from bearsms_portal.bearsms import BearSMSError, Client

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db

# code: (op, params, field, words expected in the message)
CASES = {
    602: ("inject", {"msg": "hi"}, None, "sender number and the message"),
    603: (
        "accountadd",
        {"data_status": 3, "data_username": "newbie", "data_password": PASSWORD, "data_name": "N"},
        None,
        "all required",
    ),
    604: (
        "accountadd",
        {
            "data_status": 3,
            "data_username": "newbie",
            "data_password": "abc",
            "data_name": "N",
            "data_email": "n@example.org",
        },
        "password",
        "too short",
    ),
    605: ("accountremove", {"data_username": "ghost"}, None, "no account “ghost”"),
    606: ("accountremove", {"data_username": "admin"}, None, "refused to remove"),
    607: (
        "parentset",
        {"data_username": "ghost", "data_parent": "zed"},
        "parent",
        "does not exist",
    ),
    608: (
        "parentset",
        {"data_username": "zed", "data_parent": "admin"},
        "parent",
        "must be a reseller",
    ),
    609: ("parentget", {"data_username": "ghost"}, None, "no account “ghost”"),
    610: ("parentget", {"data_username": "zed"}, None, "not a subaccount"),
    611: ("accountban", {"data_username": "ghost"}, None, "no account “ghost”"),
    612: ("accountban", {"data_username": "admin"}, None, "cannot be banned"),
    613: ("accountunban", {"data_username": "ghost"}, None, "no account “ghost”"),
    614: ("accountunban", {"data_username": "zed"}, None, "is not banned"),
    615: ("accountpref", {"data_username": "zed"}, None, "Nothing to save"),
    616: (
        "accountpref",
        {"data_username": "zed", "data_email": "not-an-email"},
        "email",
        "refused the preferences",
    ),
    617: ("accountconf", {"data_username": "zed"}, None, "Nothing to save"),
    618: (
        "accountconf",
        {"data_username": "zed", "data_sender": "NOTMINE"},
        "sender",
        "Invalid sender ID",
    ),
    619: ("creditview", {"data_username": ""}, None, "username is missing"),
    620: ("creditview", {"data_username": "zed"}, None, "no credit"),
    621: ("creditadd", {"data_username": "", "data_amount": 1}, None, "username is missing"),
    622: ("creditadd", {"data_username": "zed", "data_amount": 0}, "amount", "other than zero"),
    623: ("creditdeduct", {"data_username": "", "data_amount": 1}, None, "username is missing"),
    624: (
        "creditdeduct",
        {"data_username": "zed", "data_amount": "x"},
        "amount",
        "other than zero",
    ),
    625: ("loginkeyset", {"data_username": ""}, None, "username is missing"),
    627: ("stoplist", {"from": "15550123"}, "number", "already on the stoplist"),
}


def _raise(client, op, params) -> BearSMSError:
    with pytest.raises(BearSMSError) as info:
        client.call(op, **params)
    return info.value


def test_every_admin_err_code_in_plain_words(sandbox):
    sandbox.create_user("zed")
    client = admin_client()
    client.stoplist_add("15550123")
    problems = []
    for code, (op, params, field, words) in CASES.items():
        exc = _raise(client, op, params)
        got_field, message = explain(exc, op=op, username=params.get("data_username", ""))
        if exc.code != code or got_field != field or words not in message:
            problems.append((code, exc.code, got_field, message))
    assert not problems


def test_admin_auth_600_names_the_setting(sandbox):
    bad = Client(sandbox.url, sandbox.admin_username, "1" * 32)
    exc = _raise(bad, "creditview", {"data_username": "admin"})
    field, message = explain(exc)
    assert exc.code == 600 and "BEARSMS_ADMIN_TOKEN" in message and "1" * 32 not in message


@pytest.mark.parametrize("code", [100, 104, 105, 106])
def test_get_token_codes_in_plain_words(sandbox, code):
    sandbox.create_user("yan", password=PASSWORD, webservices=code != 104)
    user = sandbox.user("yan")
    if code == 105:
        user.enable_webservices = False
    if code == 106:
        user.webservices_ip = "10.1.1.1"
    user.save()
    client = Client(sandbox.url, "yan")
    exc = _raise(client, "get_token", {"p": "wrong-pass" if code == 100 else PASSWORD})
    _, message = explain(exc, op="get_token", username="yan")
    assert exc.code == code
    assert not message.startswith("The BearSMS server answered")
    assert PASSWORD not in message
