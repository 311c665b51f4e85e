"""The ``bearsms`` management command against the sandbox."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts import services
from accounts.models import BearSMSAccount
from bearsms_portal.sandbox.services.accounts import enable_webservices
from bearsms_portal.sandbox.services.world import LOCAL_IPS

pytestmark = pytest.mark.django_db


def run(*args) -> dict:
    out = io.StringIO()
    call_command("bearsms", *args, stdout=out)
    return json.loads(out.getvalue())


def test_admin_op_prints_the_envelope(sandbox_playsms):
    result = run("query")
    assert result["status"] == "OK"
    assert result["data"]["user"]["username"] == sandbox_playsms.admin_username


def test_params_and_xml_format(sandbox_playsms):
    sandbox_playsms.create_user("alice")
    sandbox_playsms.create_user("alicesub", level=4, parent="alice")
    result = run("parentget", "data_username=alicesub", "--format", "xml")
    assert result["status"] == "OK"
    assert sandbox_playsms.requests("parentget")


def test_errors_become_command_errors(sandbox_playsms):
    with pytest.raises(CommandError, match="UnknownUser"):
        run("parentget", "data_username=nosuchuser")
    with pytest.raises(CommandError, match="key=value"):
        run("cr", "oops")


def test_secrets_are_masked_unless_asked(monkeypatch):
    from accounts import clients

    class Answering:
        format = "json"

        def call(self, op, **params):
            return {"status": "OK", "token": "0123456789abcdef0123456789abcdef"}

        def close(self):
            pass

    monkeypatch.setattr(clients, "admin_client", Answering)
    assert run("query")["token"] == "***"
    assert run("query", "--show-secrets")["token"] == "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("op", "page"),
    [
        ("accountban", "/accounts/{pk}/ban/"),
        ("creditadd", "/accounts/{pk}/credit/add/"),
        ("loginkeyset", "/accounts/{pk}/open/"),
        ("set_token", "/accounts/{pk}/token/rotate/"),
        ("accountadd", "/accounts/new/"),
        ("inject", "/accounts/tools/inject/"),
        ("pv", "send through the portal"),
    ],
)
def test_write_ops_are_refused_with_the_page_that_does_them(
    sandbox_playsms, operator_user, op, page
):
    """A raw write would skip permission, the portal's own records and the audit log."""
    account = services.account_create(
        actor=operator_user,
        username="dave",
        password="Secret-pass-1",
        name="Dave",
        email="dave@example.org",
        level=BearSMSAccount.Level.USER,
    )
    before = len(sandbox_playsms.requests(op))
    with pytest.raises(CommandError) as info:
        run(op, "data_username=dave")
    assert f"{op} changes the server" in str(info.value)
    assert page.format(pk=account.pk) in str(info.value)
    assert len(sandbox_playsms.requests(op)) == before  # nothing was sent


def test_ws_login_prints_the_url(sandbox_playsms):
    result = run("ws_login", "u=alice", "login_key=abc")
    assert result["url"].endswith("/index.php?app=ws&op=ws_login&u=alice&login_key=abc")


def test_as_a_linked_account(sandbox_playsms, operator_user):
    account = services.account_create(
        actor=operator_user,
        username="carol",
        password="Secret-pass-1",
        name="Carol",
        email="carol@example.org",
        level=BearSMSAccount.Level.USER,
    )
    enable_webservices(sandbox_playsms.user("carol"), ip_list=LOCAL_IPS)
    services.account_link(actor=operator_user, account=account)
    result = run("query", "--as", "carol")
    assert result["data"]["user"]["username"] == "carol"
    with pytest.raises(CommandError, match="nobody"):
        run("cr", "--as", "nobody")
