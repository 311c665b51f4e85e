"""``manage.py send`` through the same services as the pages, against the sandbox."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import AuditEntry
from messaging.models import Send

from .conftest import link_account, portal_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def rita(sandbox_documented):
    account = link_account(sandbox_documented, "rita", credit=1000)
    portal_user("rita-portal", role="reseller", account=account)
    return account


def run(*args) -> str:
    out = io.StringIO()
    call_command("send", *args, stdout=out)
    return out.getvalue()


def test_send_to_numbers(sandbox_documented, rita):
    out = run("--as", "rita", "--to", "+14152345678,+14152345679", "--text", "From a script")
    send = Send.objects.get()
    assert f"send #{send.pk}: 2 destination(s) queued" in out and "2 submitted" in out
    assert send.source == Send.Source.COMMAND and send.created_by.username == "rita-portal"
    assert len(sandbox_documented.requests("pv")) == 2
    assert AuditEntry.objects.filter(action="pv", target=rita).count() == 1


def test_schedule_without_offset_is_read_in_the_users_zone(sandbox_documented, rita):
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import PortalProfile

    PortalProfile.objects.filter(user__username="rita-portal").update(time_zone="Asia/Tokyo")
    when = (timezone.now() + timedelta(days=1)).astimezone(timezone.get_fixed_timezone(540))
    wall = when.strftime("%Y-%m-%dT%H:%M")
    run("--as", "rita", "--to", "+14152345678", "--text", "Later", "--schedule", wall)
    send = Send.objects.get()
    assert send.scheduled_for == when.replace(second=0, microsecond=0)
    with pytest.raises(CommandError, match="in the past"):
        run("--as", "rita", "--to", "+14152345678", "--text", "x", "--schedule", "2001-01-01")


def test_errors_are_command_errors(sandbox_documented, rita):
    with pytest.raises(CommandError, match="12: not a phone number"):
        run("--as", "rita", "--to", "12", "--text", "x")
    with pytest.raises(CommandError, match="no account"):
        run("--as", "nobody", "--to", "+14152345678", "--text", "x")
    with pytest.raises(CommandError, match="Add --yes"):
        run("--as", "rita", "--to", "+14152345678", "--text", "x", "--sender", "Other")
    assert not sandbox_documented.requests("pv")


def test_send_from_a_file(sandbox_documented, rita, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("number,name\n+14152345678,Ann\nnot-a-number,Bob\n+14152345679,Cy\n")
    out = run("--as", "rita", "--file", str(path), "--text", "Hi {name}")
    assert "1 bad row(s) left out" in out and "row 3" in out
    send = Send.objects.get()
    assert send.source == Send.Source.FILE and send.destinations_total == 2
    texts = sorted(r.params["msg"] for r in sandbox_documented.requests("pv"))
    assert texts == ["Hi Ann", "Hi Cy"]


def test_scheduled_send_from_a_file(sandbox_documented, rita, tmp_path):
    from datetime import timedelta

    from django.utils import timezone

    path = tmp_path / "people.csv"
    path.write_text("number,name\n+14152345678,Ann\n+14152345679,Cy\n")
    with pytest.raises(CommandError, match="in the past"):
        run("--as", "rita", "--file", str(path), "--text", "x", "--schedule", "2001-01-01")
    assert not Send.objects.exists() and not sandbox_documented.requests("pv")

    when = (timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    args = ("--as", "rita", "--file", str(path), "--text", "Hi {name}")
    out = run(*args, "--schedule", when.isoformat())
    assert "2 submitted" in out
    send = Send.objects.get()
    assert send.source == Send.Source.FILE and send.scheduled_for == when
    requests = sandbox_documented.requests("pv")
    assert len(requests) == 2
    assert all(r.params.get("schedule") for r in requests)  # the server holds them until then
    entry = AuditEntry.objects.get(action="pv", target=rita, outcome=AuditEntry.Outcome.SUCCESS)
    assert entry.details["params"]["scheduled_for"] == when.isoformat()
    assert "scheduled for" in entry.message
