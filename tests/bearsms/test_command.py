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
    result = run("accountban", "data_username=alice", "--format", "xml")
    assert result["status"] == "OK"
    assert sandbox_playsms.requests("accountban")


def test_errors_become_command_errors(sandbox_playsms):
    with pytest.raises(CommandError, match="UnknownUser"):
        run("accountunban", "data_username=nosuchuser")
    with pytest.raises(CommandError, match="key=value"):
        run("cr", "oops")


def test_secrets_are_masked_unless_asked(sandbox_playsms):
    sandbox_playsms.create_user("alice")
    assert run("loginkeyset", "data_username=alice")["login_key"] == "***"
    assert len(run("loginkeyset", "data_username=alice", "--show-secrets")["login_key"]) == 32


def test_set_token_needs_force(sandbox_playsms):
    with pytest.raises(CommandError, match="--force"):
        run("set_token")


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
