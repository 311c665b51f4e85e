"""Portal logins by invitation (issue 10, acceptance 4) and the password pages.

Invitations are portal-only (no BearSMS call), so these run without the sandbox: the accounts
are local records. Each action writes one audit entry."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts import invitations
from accounts.errors import ServiceError
from accounts.models import AuditEntry, BearSMSAccount, PortalInvitation, PortalProfile

pytestmark = pytest.mark.django_db

Level = BearSMSAccount.Level
PASSWORD = "Invited-pass-42"


@pytest.fixture
def tree(django_user_model):
    reseller = BearSMSAccount.objects.create(username="acme", level=Level.USER)
    sub = BearSMSAccount.objects.create(
        username="acme-shop", level=Level.SUBACCOUNT, parent=reseller
    )
    other = BearSMSAccount.objects.create(username="globex", level=Level.USER)
    other_sub = BearSMSAccount.objects.create(
        username="globex-ops", level=Level.SUBACCOUNT, parent=other
    )
    user = django_user_model.objects.create_user(username="acme-portal", password=PASSWORD)
    PortalProfile.objects.create(user=user, role=PortalProfile.Role.RESELLER, account=reseller)
    return {"reseller": reseller, "sub": sub, "other": other, "other_sub": other_sub, "user": user}


def link_of(page: str) -> str:
    return re.search(r"(/invite/[^/<\s]+/)", page).group(1)


def test_reseller_invites_the_invitee_sets_a_password_and_logs_in(tree, client):
    client.force_login(tree["user"])
    page = reverse("accounts:logins", kwargs={"pk": tree["sub"].pk})
    answer = client.post(page, {"username": "shop-owner", "email": "owner@shop.example.org"})
    body = answer.content.decode()
    assert answer.status_code == 200 and 'id="invitation-link"' in body
    link = link_of(body)
    assert len(mail.outbox) == 1 and link in mail.outbox[0].body  # e-mailed too
    invitation = PortalInvitation.objects.get()
    assert invitation.status() == "pending"
    assert link.split("/")[2] not in invitation.token_hash  # only a hash is kept
    assert link not in client.get(page).content.decode()  # shown once
    assert AuditEntry.objects.filter(action="portalinvite", outcome="success").count() == 1

    client.logout()
    form = client.get(link)
    assert form.status_code == 200 and "Set your password" in form.content.decode()
    answer = client.post(link, {"password1": "Sh0p-secret-1", "password2": "Sh0p-secret-1"})
    assert answer.status_code == 302 and answer["Location"] == reverse("login")
    user = get_user_model().objects.get(username="shop-owner")
    assert user.portal_profile.role == PortalProfile.Role.SUBACCOUNT
    assert user.portal_profile.account == tree["sub"]
    logged_in = client.post(
        reverse("login"), {"username": "shop-owner", "password": "Sh0p-secret-1"}
    )
    assert logged_in.status_code == 302 and logged_in["Location"] == reverse("home")
    assert AuditEntry.objects.filter(action="portalinvite.accept", outcome="success").count() == 1

    # Reused: the link works once.
    client.logout()
    again = client.post(link, {"password1": "Other-secret-2", "password2": "Other-secret-2"})
    assert "already used" in again.content.decode()
    user.refresh_from_db()
    assert user.check_password("Sh0p-secret-1")
    # The account page shows who can log in.
    client.force_login(tree["user"])
    detail = client.get(reverse("accounts:detail", kwargs={"pk": tree["sub"].pk})).content
    assert b"shop-owner" in detail


def test_expired_invitation(tree, client):
    invitation, token = invitations.invite(actor=tree["user"], account=tree["sub"], username="late")
    PortalInvitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    link = reverse("accept_invitation", args=[token])
    assert "has expired" in client.get(link).content.decode()
    client.post(link, {"password1": PASSWORD, "password2": PASSWORD})
    assert not get_user_model().objects.filter(username="late").exists()
    assert AuditEntry.objects.filter(action="portalinvite.accept", outcome="failure").count() == 1
    # Resend makes a new link with a fresh expiry; the old one stays dead.
    invitation.refresh_from_db()
    _, new_token = invitations.resend(
        actor=tree["user"], account=tree["sub"], invitation=invitation
    )
    assert invitations.find(token) is None
    invitations.accept(token=new_token, password=PASSWORD)
    assert get_user_model().objects.filter(username="late").exists()


def test_revoked_invitation(tree, client):
    invitation, token = invitations.invite(
        actor=tree["user"], account=tree["sub"], username="revoked"
    )
    client.force_login(tree["user"])
    revoke = reverse(
        "accounts:invitation_revoke",
        kwargs={"pk": tree["sub"].pk, "invitation_pk": invitation.pk},
    )
    assert client.get(revoke).status_code == 404  # a button, POST only
    assert client.post(revoke).status_code == 302
    invitation.refresh_from_db()
    assert invitation.status() == "revoked"
    assert AuditEntry.objects.filter(action="portalinvite.revoke", outcome="success").count() == 1
    client.logout()
    assert "was revoked" in client.get(reverse("accept_invitation", args=[token])).content.decode()
    with pytest.raises(ServiceError):
        invitations.accept(token=token, password=PASSWORD)
    assert "This invitation link is not valid" in client.get("/invite/nonsense/").content.decode()


def test_reseller_cannot_invite_outside_its_tree(tree, client):
    client.force_login(tree["user"])
    for account in (tree["other"], tree["other_sub"]):
        url = reverse("accounts:logins", kwargs={"pk": account.pk})
        assert client.get(url).status_code == 404
        assert client.post(url, {"username": "intruder"}).status_code == 404
    # Its own account: not its to invite for (operators do that).
    own = reverse("accounts:logins", kwargs={"pk": tree["reseller"].pk})
    assert client.get(own).status_code == 403
    assert client.post(own, {"username": "self"}).status_code == 403
    assert not PortalInvitation.objects.exists()
    assert AuditEntry.objects.filter(action="portalinvite", outcome="refused").count() == 1


def test_operator_invites_for_any_account_and_names_are_unique(tree, operator_user):
    invitation, _ = invitations.invite(
        actor=operator_user, account=tree["other"], username="globex-boss"
    )
    assert invitation.account == tree["other"]
    with pytest.raises(ServiceError) as info:
        invitations.invite(actor=operator_user, account=tree["sub"], username="acme-portal")
    assert "taken" in info.value.message
    with pytest.raises(ServiceError):
        invitations.invite(actor=operator_user, account=tree["sub"], username="globex-boss")


def test_own_password_change_and_reset_by_email(tree, client):
    user = tree["user"]
    user.email = "alice@acme.example.org"
    user.save()
    client.force_login(user)
    answer = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "N3w-pass-word",
            "new_password2": "N3w-pass-word",
        },
    )
    assert answer.status_code == 302
    user.refresh_from_db()
    assert user.check_password("N3w-pass-word")
    assert AuditEntry.objects.filter(action="password_change", actor=user).count() == 1

    client.logout()
    assert b"Forgot your password?" in client.get(reverse("login")).content
    client.post(reverse("password_reset"), {"email": "alice@acme.example.org"})
    assert len(mail.outbox) == 1
    link = re.search(r"http://[^/]+(/password/reset/\S+/)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    assert b"Set a new password" in form.content
    answer = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "Reset-pass-77", "new_password2": "Reset-pass-77"},
    )
    assert answer.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Reset-pass-77")
    assert AuditEntry.objects.filter(action="password_reset", actor=user).count() == 1


def test_e_mails_give_times_in_the_recipients_zone(tree, client, django_user_model, settings):
    """The invitation: the zone of the account it logs in as (its +HHMM); the password reset:
    the user's own zone. Each names the zone, as an e-mail has no page to say it."""
    from datetime import timedelta

    from django.utils import timezone

    BearSMSAccount.objects.filter(pk=tree["sub"].pk).update(timezone="+0700")
    client.force_login(tree["user"])
    page = reverse("accounts:logins", kwargs={"pk": tree["sub"].pk})
    client.post(page, {"username": "shop-owner", "email": "owner@shop.example.org"})
    expires = PortalInvitation.objects.get().expires_at + timedelta(hours=7)
    assert f"until {expires:%Y-%m-%d %H:%M} UTC+07:00)" in mail.outbox[0].body

    client.logout()
    user = django_user_model.objects.create_user(
        username="tokyo", password=PASSWORD, email="tokyo@acme.example.org"
    )
    PortalProfile.objects.create(user=user, role="", time_zone="Asia/Tokyo")
    before = timezone.now()
    client.post(reverse("password_reset"), {"email": "tokyo@acme.example.org"})
    until = before + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT, hours=9)
    body = mail.outbox[1].body
    assert f"until {until:%Y-%m-%d %H:}" in body and "Asia/Tokyo (UTC+09:00))" in body
