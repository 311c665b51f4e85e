"""Every admin op through the portal's services, against the sandbox (both
profiles): success, and each ERR code the op can produce through the portal."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests
from django.core.exceptions import PermissionDenied

from accounts import services
from accounts.balances import balance_of
from accounts.clients import admin_client, client_for
from accounts.errors import ADMIN_CREDENTIALS, OutcomeUnknownError, ServiceError
from accounts.models import AuditEntry, BearSMSAccount, CreditLedgerEntry
from accounts.transfers import server_figure_live
from bearsms_portal.bearsms import AuthenticationFailed
from bearsms_portal.sandbox.services.accounts import approve_sender_id

from .conftest import PASSWORD, Level, enable_on_server, make_account

pytestmark = pytest.mark.django_db


def last_audit(action=None) -> AuditEntry:
    qs = AuditEntry.objects.order_by("-id")
    return (qs.filter(action=action) if action else qs).first()


def steps(entry: AuditEntry) -> list[str]:
    return [step["op"] for step in entry.details["steps"]]


def removed_outside_portal(username):
    """An account the portal knows, removed on the server behind the portal's back."""
    admin_client().account_remove(username)


# --- accountadd -------------------------------------------------------------------------------


def test_accountadd_creates_and_reports_not_linked(sandbox, operator_user):
    account = services.account_create(
        actor=operator_user,
        username="carol",
        password=PASSWORD,
        name="Carol",
        email="carol@example.org",
        level=Level.USER,
        mobile="+15550001",
    )
    assert account.level == Level.USER and account.footer == "@carol"
    assert sandbox.user("carol").status == 3
    # New accounts have webservices off and no token: not linked, in plain words.
    assert not account.is_linked
    assert "no webservices token" in account.link_error
    assert account.pending_password_encrypted and PASSWORD not in account.pending_password_encrypted
    entry = last_audit("accountadd")
    assert entry.outcome == AuditEntry.Outcome.SUCCESS
    if sandbox.profile == "playsms-1.4.8":
        # HTTP 500 on success: settled by asking parentget, never by adding again.
        assert steps(entry) == ["accountadd", "parentget"]
        assert "HTTP 500" in entry.details["steps"][0]["result"]
    else:
        assert steps(entry) == ["accountadd"]
    assert len(sandbox.requests("accountadd")) == 1
    assert last_audit("get_token").error_code == 104

    # "Link now" after an administrator enabled webservices: retries with the kept password.
    enable_on_server(sandbox, "carol")
    services.account_link(actor=operator_user, account=account)
    account.refresh_from_db()
    assert account.is_linked and account.link_error == "" and not account.pending_password_encrypted
    assert client_for(account).credit() == Decimal(0)


def test_accountadd_subaccount_needs_parent(sandbox, operator_user):
    with pytest.raises(ServiceError) as info:
        services.account_create(
            actor=operator_user,
            username="orphan",
            password=PASSWORD,
            name="O",
            email="o@example.org",
            level=Level.SUBACCOUNT,
        )
    assert info.value.field == "parent"
    assert not sandbox.requests("accountadd")


def test_accountadd_604_taken_email_and_username(sandbox, operator_user):
    sandbox.create_user("dave", email="dave@example.org")
    with pytest.raises(ServiceError) as info:
        services.account_create(
            actor=operator_user,
            username="dave",
            password=PASSWORD,
            name="Dave",
            email="dave2@example.org",
        )
    assert (info.value.code, info.value.field) == (604, "username")
    assert "already taken" in info.value.message
    with pytest.raises(ServiceError) as info:
        services.account_create(
            actor=operator_user,
            username="dave2",
            password=PASSWORD,
            name="Dave",
            email="dave@example.org",
        )
    assert (info.value.code, info.value.field) == (604, "email")
    assert not BearSMSAccount.objects.filter(username__startswith="dave").exists()
    entry = last_audit("accountadd")
    assert (entry.outcome, entry.error_code) == ("failure", 604)


def test_accountadd_500_without_account_is_a_failure(sandbox, operator_user):
    sandbox.set_fault("accountadd", "http500", 1.0)  # the fault answers before creating
    with pytest.raises(ServiceError) as info:
        services.account_create(
            actor=operator_user,
            username="erin",
            password=PASSWORD,
            name="Erin",
            email="erin@example.org",
        )
    assert "did not create" in info.value.message
    entry = last_audit("accountadd")
    assert steps(entry) == ["accountadd", "parentget"]
    assert entry.details["steps"][1]["code"] == 609
    assert len(sandbox.requests("accountadd")) == 1  # never repeated blindly
    assert not BearSMSAccount.objects.filter(username="erin").exists()


def test_accountadd_600_bad_admin_token(sandbox, operator_user, settings):
    settings.BEARSMS_ADMIN_TOKEN = "0" * 32
    admin_client().clear_auth_failure()  # the client's fail-fast memory of this bad token
    with pytest.raises(ServiceError) as info:
        services.account_create(
            actor=operator_user,
            username="frank",
            password=PASSWORD,
            name="Frank",
            email="frank@example.org",
        )
    assert info.value.message == ADMIN_CREDENTIALS and info.value.code == 600
    # A second attempt is not even sent (one bad token must not get the IP blacklisted).
    with pytest.raises(ServiceError) as info:
        services.account_create(
            actor=operator_user,
            username="frank",
            password=PASSWORD,
            name="Frank",
            email="frank@example.org",
        )
    assert info.value.message.startswith(ADMIN_CREDENTIALS)
    assert len(sandbox.requests("accountadd")) == 1
    entry = last_audit("accountadd")
    assert (entry.outcome, entry.error_code) == ("failure", 600)
    assert "0" * 32 not in str(entry.details)


# --- linking ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["100", "105", "106"])
def test_link_errors_in_plain_words(sandbox, operator_user, case):
    account = make_account(operator_user, sandbox, "gina", link=False)
    user = sandbox.user("gina")
    enable_on_server(sandbox, "gina")
    password = PASSWORD
    if case == "100":
        password = "wrong-password"
    elif case == "105":
        user.refresh_from_db()
        user.enable_webservices = False
        user.save()
    else:
        user.refresh_from_db()
        user.webservices_ip = "10.9.9.9"
        user.save()
    with pytest.raises(ServiceError) as info:
        services.account_link(actor=operator_user, account=account, password=password)
    account.refresh_from_db()
    assert not account.is_linked
    expected = {"100": "refused the credentials", "105": "not enabled", "106": "IP address"}[case]
    assert expected in info.value.message and expected in account.link_error
    assert last_audit("get_token").error_code == int(case)


def test_link_existing_account(sandbox, operator_user):
    sandbox.create_user("henry", password=PASSWORD, credit=25, name="Henry H")
    sandbox.create_user("henry-sub", level=4, parent="henry", password=PASSWORD)
    henry = services.account_import(actor=operator_user, username="henry", password=PASSWORD)
    assert henry.is_linked and henry.level == Level.USER and henry.name == "Henry H"
    sub = services.account_import(actor=operator_user, username="henry-sub", password="")
    assert sub.parent == henry and sub.level == Level.SUBACCOUNT and not sub.is_linked
    with pytest.raises(ServiceError) as info:
        services.account_import(actor=operator_user, username="nobody-here", password=PASSWORD)
    assert info.value.code == 609


# --- accountremove -------------------------------------------------------------------------


def test_accountremove_and_its_errors(sandbox, operator_user):
    parent = make_account(operator_user, sandbox, "ivan")
    # 606: subaccounts on the server the portal did not know about.
    sandbox.create_user("ivan-sub", level=4, parent="ivan")
    with pytest.raises(ServiceError) as info:
        services.account_remove(actor=operator_user, account=parent)
    assert info.value.code == 606 and "subaccounts" in info.value.message
    admin_client().account_remove("ivan-sub")
    client = client_for(parent)
    services.account_remove(actor=operator_user, account=parent)
    assert not BearSMSAccount.objects.filter(username="ivan").exists()
    entry = last_audit("accountremove")
    assert (entry.target_username, entry.outcome) == ("ivan", "success")
    with pytest.raises(AuthenticationFailed):  # removed on the server: its token is dead
        client.credit()

    ghost = make_account(operator_user, sandbox, "jack")
    removed_outside_portal("jack")
    with pytest.raises(ServiceError) as info:
        services.account_remove(actor=operator_user, account=ghost)
    assert info.value.code == 605


# --- ban / unban ---------------------------------------------------------------------------


def test_ban_unban_and_their_errors(sandbox, operator_user):
    kate = make_account(operator_user, sandbox, "kate")
    services.account_ban(actor=operator_user, account=kate)
    assert kate.is_banned and sandbox.user("kate").banned_at is not None
    services.account_unban(actor=operator_user, account=kate)
    assert not kate.is_banned
    # 614: not banned -> the wanted state already holds; recorded with its code.
    services.account_unban(actor=operator_user, account=kate)
    entry = last_audit("accountunban")
    assert (entry.outcome, entry.error_code) == ("success", 614)

    admin = services.account_import(
        actor=operator_user, username=sandbox.admin_username, level=Level.ADMIN
    )
    with pytest.raises(ServiceError) as info:
        services.account_ban(actor=operator_user, account=admin)
    assert info.value.code == 612 and "cannot be banned" in info.value.message

    removed_outside_portal("kate")
    for service, code in ((services.account_ban, 611), (services.account_unban, 613)):
        with pytest.raises(ServiceError) as info:
            service(actor=operator_user, account=kate)
        assert info.value.code == code
        assert last_audit().error_code == code


# --- accountpref ---------------------------------------------------------------------------


def test_accountpref_and_its_errors(sandbox, operator_user):
    lena = make_account(operator_user, sandbox, "lena")
    make_account(operator_user, sandbox, "mona", link=False)
    services.account_pref(
        actor=operator_user, account=lena, name="Lena L", city="Oslo", password="New-pass-22"
    )
    lena.refresh_from_db()
    server = sandbox.user("lena")
    assert (lena.name, server.name, server.city) == ("Lena L", "Lena L", "Oslo")
    assert lena.is_linked  # the token is unchanged by a password change
    # 616 with a validation reason: the email belongs to another account.
    with pytest.raises(ServiceError) as info:
        services.account_pref(actor=operator_user, account=lena, email="mona@example.org")
    assert (info.value.code, info.value.field) == (616, "email")
    # Nothing changed: refused locally (the server would answer 616 "Fail to save").
    with pytest.raises(ServiceError):
        services.account_pref(actor=operator_user, account=lena, name="Lena L")
    removed_outside_portal("lena")
    with pytest.raises(ServiceError) as info:
        services.account_pref(actor=operator_user, account=lena, name="Other")
    assert info.value.code == 615


# --- accountconf ---------------------------------------------------------------------------


def test_accountconf_always_sends_the_complete_configuration(sandbox, operator_user):
    nina = make_account(operator_user, sandbox, "nina")
    approve_sender_id(sandbox.user("nina"), "NINACO")
    services.account_conf(
        actor=operator_user, account=nina, sender="NINACO", footer="by Nina", timezone="+0700"
    )
    # Change only the timezone: the footer and sender go along, so they are kept.
    services.account_conf(actor=operator_user, account=nina, timezone="+0100")
    params = sandbox.requests("accountconf")[-1].params
    assert params["data_sender"] == "NINACO" and params["data_footer"] == "by Nina"
    assert params["data_datetime_timezone"] == "+0100"
    server = sandbox.user("nina")
    assert server.sender == "NINACO" and server.datetime_timezone == "+0100"
    if sandbox.profile == "documented":
        assert server.footer == "by Nina"
    nina.refresh_from_db()
    assert (nina.sender, nina.footer, nina.timezone) == ("NINACO", "by Nina", "+0100")

    with pytest.raises(ServiceError) as info:
        services.account_conf(actor=operator_user, account=nina, sender="NOTMINE")
    assert (info.value.code, info.value.field) == (618, "sender")
    nina.refresh_from_db()
    assert nina.sender == "NINACO"  # the local copy follows the server, not the form

    removed_outside_portal("nina")
    with pytest.raises(ServiceError) as info:
        services.account_conf(actor=operator_user, account=nina, timezone="+0200")
    assert info.value.code == 617


# --- parentset / parentget -----------------------------------------------------------------


def test_parentset_parentget_and_their_errors(sandbox, operator_user):
    olga = make_account(operator_user, sandbox, "olga")
    paul = make_account(operator_user, sandbox, "paul")
    services.parent_set(actor=operator_user, account=paul, parent=olga)
    paul.refresh_from_db()
    assert (paul.parent, paul.level) == (olga, Level.SUBACCOUNT)
    assert sandbox.user("paul").status == 4  # the server turns it into a subaccount
    # 608 because nothing changed: parentget shows the wanted parent, so it is a success.
    services.parent_set(actor=operator_user, account=paul, parent=olga)
    entry = last_audit("parentset")
    assert (entry.outcome, entry.error_code) == ("success", 608)
    assert steps(entry) == ["parentset", "parentget"]

    assert services.parent_get(actor=operator_user, account=paul) == olga
    assert services.parent_get(actor=operator_user, account=olga) is None  # 610: no parent

    # 608 for real: on the server the new parent is no longer a user-level account.
    quinn = make_account(operator_user, sandbox, "quinn")
    rosa = make_account(operator_user, sandbox, "rosa")
    admin_client().parent_set("rosa", "olga")  # behind the portal's back
    with pytest.raises(ServiceError) as info:
        services.parent_set(actor=operator_user, account=quinn, parent=rosa)
    assert (info.value.code, info.value.field) == (608, "parent")

    removed_outside_portal("quinn")
    with pytest.raises(ServiceError) as info:
        services.parent_set(actor=operator_user, account=quinn, parent=olga)
    assert info.value.code == 607
    with pytest.raises(ServiceError) as info:
        services.parent_get(actor=operator_user, account=quinn)
    assert info.value.code == 609


# --- credit --------------------------------------------------------------------------------


def test_credit_view_add_deduct_and_ledger(sandbox, operator_user):
    sam = make_account(operator_user, sandbox, "sam")
    # 620 for a zero balance: shown as 0, not as an error.
    assert services.credit_refresh(actor=operator_user, account=sam).server_figure == Decimal(0)
    sam.refresh_from_db()
    assert sam.credit == 0 and sam.credit_read_at is not None and not sam.credit_unreliable
    services.credit_add(actor=operator_user, account=sam, amount="12.5", reason="top-up")
    services.credit_deduct(actor=operator_user, account=sam, amount=2, reason="correction")
    assert [(e.kind, e.amount, e.reason) for e in CreditLedgerEntry.objects.order_by("id")] == [
        ("add", Decimal("12.5"), "top-up"),
        ("deduct", Decimal("-2"), "correction"),
    ]
    # The username is checked first; where the server's figure is live it is read just before
    # (what settles a lost answer, accounts.settling).
    figure = ["creditview"] if server_figure_live() else []
    assert steps(last_audit("creditadd")) == ["parentget", *figure, "creditadd"]
    sam.refresh_from_db()
    assert balance_of(sam).balance == Decimal("10.5")  # last read (0) + moves since
    sandbox.settle(60)
    balance = services.credit_refresh(actor=operator_user, account=sam)
    # 1.4.8 never recalculates non-admin balances: its cached figure stays 0 (unreliable).
    stale = sandbox.profile != "documented"
    assert balance.server_figure == (Decimal(0) if stale else Decimal("10.5"))
    assert (balance.balance, balance.server_unreliable) == (Decimal("10.5"), stale)

    with pytest.raises(ServiceError) as info:
        services.credit_add(actor=operator_user, account=sam, amount=0, reason="x")
    assert info.value.field == "amount"
    with pytest.raises(ServiceError) as info:
        services.credit_add(actor=operator_user, account=sam, amount=1, reason="")
    assert info.value.field == "reason"

    removed_outside_portal("sam")
    before = len(sandbox.requests("creditadd"))
    for service, extra in ((services.credit_add, {}), (services.credit_deduct, {"confirmed": 1})):
        with pytest.raises(ServiceError) as info:
            service(actor=operator_user, account=sam, amount=1, reason="r", **extra)
        assert info.value.code == 609 and "no account" in info.value.message
    assert len(sandbox.requests("creditadd")) == before  # never reaches the FATAL page
    with pytest.raises(ServiceError) as info:  # 620 for an unknown user is not "zero"
        services.credit_refresh(actor=operator_user, account=sam)
    assert info.value.code == 609
    assert CreditLedgerEntry.objects.count() == 2


def test_credit_transfer_between_reseller_and_subaccount(world):
    ra, sa = world.reseller_a, world.sub_a
    world.sandbox.settle(60)
    services.credit_transfer(
        actor=world.user_a, source=ra, target=sa, amount=30, reason="for the campaign"
    )
    moves = list(
        CreditLedgerEntry.objects.filter(reason__startswith="for the campaign")
        .order_by("id")
        .values_list("account_username", "amount")
    )
    assert moves == [("resa", Decimal("-30")), ("resa-sub", Decimal("30"))]
    with pytest.raises(PermissionDenied):
        services.credit_transfer(
            actor=world.user_a, source=ra, target=world.reseller_b, amount=1, reason="not mine"
        )
    with pytest.raises(ServiceError) as info:
        services.credit_transfer(
            actor=world.user_a, source=sa, target=ra, amount=500, reason="more than it has"
        )
    assert "resa-sub has 30 available" in info.value.message
    # Operators move between any two accounts.
    moved = services.credit_transfer(
        actor=world.operator, source=ra, target=world.sub_b, amount=1, reason="across trees"
    )
    assert moved.state == "done"
    # Back from the subaccount to the reseller.
    services.credit_transfer(actor=world.user_a, source=sa, target=ra, amount=5, reason="back")
    assert balance_of(ra).balance == Decimal(74)
    with pytest.raises(PermissionDenied):
        services.credit_transfer(actor=world.user_b, source=ra, target=sa, amount=1, reason="x")
    with pytest.raises(PermissionDenied):
        services.credit_add(actor=world.user_a, account=sa, amount=1, reason="free money")


# --- loginkeyset + ws_login ----------------------------------------------------------------


def test_open_in_bearsms(sandbox, operator_user):
    tina = make_account(operator_user, sandbox, "tina")
    url = services.open_in_bearsms(actor=operator_user, account=tina)
    assert "op=ws_login" in url and "u=tina" in url
    entry = last_audit("loginkeyset")
    assert steps(entry) == ["parentget", "loginkeyset", "ws_login"]
    key = url.rsplit("login_key=", 1)[1]
    assert key not in str(entry.details) and key not in entry.message
    response = requests.get(url, allow_redirects=False, timeout=10)
    assert response.status_code == 302

    # Banned accounts are refused before any key is minted (ws_login ignores bans).
    services.account_ban(actor=operator_user, account=tina)
    before = len(sandbox.requests("loginkeyset"))
    with pytest.raises(ServiceError) as info:
        services.open_in_bearsms(actor=operator_user, account=tina)
    assert "banned" in info.value.message
    assert len(sandbox.requests("loginkeyset")) == before

    # Unknown usernames are checked first (the server would crash with a FATAL page).
    uma = make_account(operator_user, sandbox, "uma")
    removed_outside_portal("uma")
    with pytest.raises(ServiceError) as info:
        services.open_in_bearsms(actor=operator_user, account=uma)
    assert info.value.code == 609
    assert len(sandbox.requests("loginkeyset")) == before


def test_subaccount_of_banned_reseller_is_not_opened(world):
    services.account_ban(actor=world.operator, account=world.reseller_a)
    sub = BearSMSAccount.objects.get(pk=world.sub_a.pk)
    with pytest.raises(ServiceError):
        services.open_in_bearsms(actor=world.user_a, account=sub)


# --- inject, stoplist, set_token -----------------------------------------------------------


def test_inject_and_stoplist(sandbox, operator_user):
    services.inject_message(actor=operator_user, sender="+15550100", message="HELLO there")
    assert sandbox.requests("inject")[-1].result in ("OK", "0", "ok")
    with pytest.raises(ServiceError) as info:
        services.inject_message(actor=operator_user, sender="", message="x")
    assert info.value.field == "sender"

    services.stoplist_add(actor=operator_user, number="15550199")
    with pytest.raises(ServiceError) as info:
        services.stoplist_add(actor=operator_user, number="15550199")
    assert (info.value.code, info.value.field) == (627, "number")
    assert last_audit("stoplist").error_code == 627


def test_set_token_rotates_and_the_old_one_dies(sandbox, operator_user):
    vera = make_account(operator_user, sandbox, "vera")
    old = vera.reveal_token()
    services.token_rotate(actor=operator_user, account=vera)
    vera.refresh_from_db()
    new = vera.reveal_token()
    assert new and new != old and sandbox.user("vera").token == new
    assert client_for(vera).credit() == Decimal(0)

    # 100: the token was changed outside the portal.
    server = sandbox.user("vera")
    server.token = "f" * 32
    server.save()
    with pytest.raises(ServiceError) as info:
        services.token_rotate(actor=operator_user, account=vera)
    assert info.value.code == 100


def test_set_token_lost_answer_marks_not_linked(sandbox, operator_user):
    wim = make_account(operator_user, sandbox, "wim")
    sandbox.set_fault("set_token", "http500", 1.0)
    # PHP answered (so the op is over) before rotating: the old token still works, which
    # settles it at once — not rotated, still linked.
    with pytest.raises(ServiceError) as info:
        services.token_rotate(actor=operator_user, account=wim)
    assert not isinstance(info.value, OutcomeUnknownError)
    wim.refresh_from_db()
    assert wim.is_linked
    entry = last_audit("set_token")
    assert entry.outcome == AuditEntry.Outcome.FAILURE
    assert steps(entry) == ["set_token", "query"]


# --- permissions ---------------------------------------------------------------------------


def test_resellers_manage_only_their_own_subaccounts(world):
    op, a, b = world.operator, world.user_a, world.user_b
    sub = services.account_create(
        actor=a,
        username="resa-two",
        password=PASSWORD,
        name="Two",
        email="two@example.org",
        level=Level.SUBACCOUNT,
        parent=world.reseller_a,
    )
    assert sub.parent == world.reseller_a and sub.created_by == a
    with pytest.raises(PermissionDenied):
        services.account_create(
            actor=a,
            username="resa-3",
            password=PASSWORD,
            name="T",
            email="t@example.org",
            level=Level.USER,
        )
    with pytest.raises(PermissionDenied):
        services.account_create(
            actor=b,
            username="resb-3",
            password=PASSWORD,
            name="T",
            email="t3@example.org",
            level=Level.SUBACCOUNT,
            parent=world.reseller_a,
        )
    services.account_ban(actor=a, account=world.sub_a)
    services.account_unban(actor=a, account=world.sub_a)
    for service in (services.account_ban, services.account_unban, services.credit_refresh):
        with pytest.raises(PermissionDenied):
            service(actor=b, account=world.sub_a)
    for service in (services.account_remove, services.token_rotate):
        with pytest.raises(PermissionDenied):
            service(actor=a, account=world.sub_a)
    with pytest.raises(PermissionDenied):
        services.account_ban(actor=a, account=world.reseller_a)  # not its own account
    with pytest.raises(PermissionDenied):
        services.account_ban(actor=world.user_sub_a, account=world.sub_a)
    with pytest.raises(PermissionDenied):
        services.stoplist_add(actor=a, number="15550000")
    services.account_ban(actor=op, account=world.reseller_b)


# --- unknown outcomes and the admin credentials, across ops --------------------------------


def test_unknown_outcomes_are_settled_by_asking(sandbox, operator_user):
    xena = make_account(operator_user, sandbox, "xena")
    yves = make_account(operator_user, sandbox, "yves")
    sandbox.set_fault("accountremove", "http500", 1.0)  # answers 500 without removing
    with pytest.raises(ServiceError) as info:
        services.account_remove(actor=operator_user, account=yves)
    assert "did not remove" in info.value.message
    entry = last_audit("accountremove")
    assert steps(entry) == ["accountremove", "parentget"] and entry.outcome == "failure"
    assert len(sandbox.requests("accountremove")) == 1
    assert BearSMSAccount.objects.filter(username="yves").exists()

    sandbox.set_fault("parentset", "http500", 1.0)
    with pytest.raises(ServiceError) as info:
        services.parent_set(actor=operator_user, account=yves, parent=xena)
    assert "did not change" in info.value.message
    assert steps(last_audit("parentset")) == ["parentset", "parentget"]
    assert len(sandbox.requests("parentset")) == 1

    # A credit move cannot be checked (balances are cached): recorded as unknown, not retried.
    sandbox.set_fault("creditadd", "http500", 1.0)
    with pytest.raises(OutcomeUnknownError):
        services.credit_add(actor=operator_user, account=xena, amount=5, reason="r")
    assert last_audit("creditadd").outcome == AuditEntry.Outcome.UNKNOWN
    assert len(sandbox.requests("creditadd")) == 1
    assert not CreditLedgerEntry.objects.filter(account=xena).exists()


def test_every_admin_op_names_the_admin_credentials(sandbox, operator_user, settings):
    zoe = make_account(operator_user, sandbox, "zoe")
    other = make_account(operator_user, sandbox, "zack")
    settings.BEARSMS_ADMIN_TOKEN = "9" * 32
    calls = {
        "accountadd": lambda: services.account_create(
            actor=operator_user, username="nope", password=PASSWORD, name="N", email="n@example.org"
        ),
        "accountremove": lambda: services.account_remove(actor=operator_user, account=zoe),
        "accountban": lambda: services.account_ban(actor=operator_user, account=zoe),
        "accountunban": lambda: services.account_unban(actor=operator_user, account=zoe),
        "accountpref": lambda: services.account_pref(actor=operator_user, account=zoe, name="Z"),
        "accountconf": lambda: services.account_conf(
            actor=operator_user, account=zoe, timezone="+0100"
        ),
        "parentset": lambda: services.parent_set(actor=operator_user, account=zoe, parent=other),
        "parentget": lambda: services.parent_get(actor=operator_user, account=zoe),
        "creditview": lambda: services.credit_refresh(actor=operator_user, account=zoe),
        "creditadd": lambda: services.credit_add(
            actor=operator_user, account=zoe, amount=1, reason="r"
        ),
        "creditdeduct": lambda: services.credit_deduct(
            actor=operator_user, account=zoe, amount=1, reason="r", confirmed=True
        ),
        "loginkeyset": lambda: services.open_in_bearsms(actor=operator_user, account=zoe),
        "inject": lambda: services.inject_message(actor=operator_user, sender="+1555", message="x"),
        "stoplist": lambda: services.stoplist_add(actor=operator_user, number="15550777"),
    }
    for action, call in calls.items():
        with pytest.raises(ServiceError) as info:
            call()
        assert info.value.message.startswith(ADMIN_CREDENTIALS), action
        entry = last_audit(action)
        assert entry.outcome == "failure" and entry.error_code in (600, 100), action
    # The bad token reached the server once per auth scope, then the client stopped sending it.
    assert sorted(r.result for r in sandbox.requests() if r.result in ("600", "100")) == [
        "100",
        "600",
    ]
