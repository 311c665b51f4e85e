"""Linking instructions that match BearSMS 1.4.8, and tokens of both lengths (issue 13)."""

from __future__ import annotations

import re

from django.urls import reverse

from accounts import services
from accounts.clients import client_for
from accounts.errors import NEW_ACCOUNT_ACL

from .conftest import PASSWORD, enable_on_server, keyed, make_account


def test_not_linked_says_where_webservices_are_enabled(sandbox, operator_user, client):
    client.force_login(operator_user)
    response = client.post(
        reverse("accounts:create"),
        keyed(
            {
                "username": "lina",
                "password": PASSWORD,
                "name": "Lina",
                "email": "lina@example.org",
                "level": 3,
            }
        ),
        follow=True,
    )
    page = response.text
    lina = response.context["account"]
    assert not lina.is_linked
    for words in (
        "My account → User configuration",
        "Enable webservices",
        "Renew webservices token",
        "Webservices IP range",
        "uname=lina",
    ):
        assert words in lina.link_error
    assert "My account → Webservices" not in page
    # A new account's ACL is empty on 1.4.8: said when it is created and on its page.
    assert page.count("empty access-control list") == 2
    assert NEW_ACCOUNT_ACL.split(":")[0] in page


def test_tokens_of_32_and_64_hex_characters(sandbox, operator_user):
    ona = make_account(operator_user, sandbox, "ona", link=False)
    web_ui_token = enable_on_server(sandbox, "ona")  # the web UI mints 64 hex
    assert re.fullmatch(r"[0-9a-f]{64}", web_ui_token)
    ona = services.account_link(actor=operator_user, account=ona)
    assert ona.reveal_token() == web_ui_token
    assert client_for(ona).query().username == "ona"

    ona = services.token_rotate(actor=operator_user, account=ona)  # the API mints 32 hex
    assert re.fullmatch(r"[0-9a-f]{32}", ona.reveal_token())
    assert client_for(ona).query().username == "ona"
