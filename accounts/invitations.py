"""Portal logins by invitation: an operator (any account) or a reseller (its own subaccounts)
invites someone to log in as an account; the invitee sets a password through a single-use link.

- The link holds a random token; only its SHA-256 is stored, so the link is shown once (and
  e-mailed when an address is given) and cannot be read back.
- A link works once, for ``INVITATION_HOURS`` (72 h by default), until revoked. "Resend" makes
  a new link (the old one stops working) with a fresh expiry.
- Operators are never created here: only through Django admin.

Every action writes one audit entry; refusals are audited by ``@audits_refusals``.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from .audit import audited, audits_refusals
from .errors import ServiceError
from .models import BearSMSAccount, PortalInvitation, PortalProfile
from .permissions import ensure_can
from .zones import account_zone, mail_time

ROLE_FOR_LEVEL = {
    BearSMSAccount.Level.USER: PortalProfile.Role.RESELLER,
    BearSMSAccount.Level.SUBACCOUNT: PortalProfile.Role.SUBACCOUNT,
}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_url(token: str) -> str:
    return settings.PORTAL_URL.rstrip("/") + reverse("accept_invitation", args=[token])


def _new_token(invitation: PortalInvitation) -> str:
    token = secrets.token_urlsafe(32)
    invitation.token_hash = _hash(token)
    invitation.expires_at = timezone.now() + timedelta(hours=settings.INVITATION_HOURS)
    return token


def _mail(invitation: PortalInvitation, token: str) -> bool:
    if not invitation.email:
        return False
    send_mail(
        subject=f"Your BearSMS Portal login for {invitation.account.username}",
        message=(
            f"You are invited to log in to the BearSMS Portal as “{invitation.username}” "
            f"(account {invitation.account.username}).\n\n"
            f"Set your password here (the link works once, until "
            f"{mail_time(invitation.expires_at, account_zone(invitation.account))}):\n"
            f"{invitation_url(token)}\n"
        ),
        from_email=None,
        recipient_list=[invitation.email],
    )
    return True


def logins_of(account: BearSMSAccount):
    """The portal users who log in as ``account``."""
    return get_user_model().objects.filter(portal_profile__account=account).order_by("username")


def _require(condition: bool, message: str, field: str | None = None) -> None:
    if not condition:
        raise ServiceError(message, field=field)


@audits_refusals("portalinvite")
def invite(
    *, actor, account: BearSMSAccount, username: str, email: str = ""
) -> tuple[PortalInvitation, str]:
    """Create the invitation; returns it with the link token (show it once, never store it)."""
    ensure_can(actor, "portalinvite", account)
    _require(account.level in ROLE_FOR_LEVEL, "Only resellers and subaccounts get portal logins.")
    username = (username or "").strip()
    _require(bool(username) and len(username) <= 150, "Enter a login name.", "username")
    User = get_user_model()
    _require(
        not User.objects.filter(username__iexact=username).exists()
        and not PortalInvitation.objects.filter(
            username__iexact=username,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        ).exists(),
        f"The login name “{username}” is taken.",
        "username",
    )
    email = (email or "").strip()
    with audited(
        actor=actor,
        action="portalinvite",
        target=account,
        params={"username": username, "email": email},
    ) as audit:
        invitation = PortalInvitation(
            account=account, username=username, email=email, invited_by=actor
        )
        token = _new_token(invitation)
        with transaction.atomic():
            invitation.save()
            mailed = _mail(invitation, token)
            audit.succeeded(
                f"Invitation for {username} created"
                + (f", e-mailed to {email}." if mailed else ".")
            )
    return invitation, token


def _pending(invitation: PortalInvitation) -> None:
    status = invitation.status()
    _require(status == "pending", f"This invitation is {status}.")


@audits_refusals("portalinvite.resend")
def resend(
    *, actor, account: BearSMSAccount, invitation: PortalInvitation
) -> tuple[PortalInvitation, str]:
    """A new link (the old one stops working) valid for another ``INVITATION_HOURS``."""
    ensure_can(actor, "portalinvite", account)
    _require(invitation.account_id == account.pk, "This invitation is for another account.")
    _require(
        invitation.status() in ("pending", "expired"), f"This invitation is {invitation.status()}."
    )
    with audited(
        actor=actor,
        action="portalinvite.resend",
        target=invitation.account,
        params={"username": invitation.username},
    ) as audit:
        token = _new_token(invitation)
        with transaction.atomic():
            invitation.save(update_fields=["token_hash", "expires_at"])
            mailed = _mail(invitation, token)
            audit.succeeded(
                f"New invitation link for {invitation.username}" + (" e-mailed." if mailed else ".")
            )
    return invitation, token


@audits_refusals("portalinvite.revoke")
def revoke(*, actor, account: BearSMSAccount, invitation: PortalInvitation) -> PortalInvitation:
    ensure_can(actor, "portalinvite", account)
    _require(invitation.account_id == account.pk, "This invitation is for another account.")
    _pending(invitation)
    with (
        audited(
            actor=actor,
            action="portalinvite.revoke",
            target=invitation.account,
            params={"username": invitation.username},
        ) as audit,
        transaction.atomic(),
    ):
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit.succeeded(f"Invitation for {invitation.username} revoked.")
    return invitation


def find(token: str) -> PortalInvitation | None:
    return (
        PortalInvitation.objects.select_related("account")
        .filter(token_hash=_hash(token or ""))
        .first()
    )


def accept(*, token: str, password: str):
    """Create the portal login of a pending invitation with ``password``; returns the user."""
    invitation = find(token)
    _require(invitation is not None, "This invitation link is not valid.")
    User = get_user_model()
    user = User(username=invitation.username, email=invitation.email)
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ServiceError(" ".join(exc.messages), field="password1") from None
    with audited(
        actor=None,
        action="portalinvite.accept",
        target=invitation.account,
        params={"username": invitation.username},
    ) as audit:
        try:
            with transaction.atomic():
                # Lock the invitation: two tabs posting the same link create one login.
                invitation = PortalInvitation.objects.select_for_update().get(pk=invitation.pk)
                _pending(invitation)
                user.set_password(password)
                user.save()
                PortalProfile.objects.create(
                    user=user,
                    role=ROLE_FOR_LEVEL[invitation.account.level],
                    account=invitation.account,
                )
                invitation.accepted_at = timezone.now()
                invitation.user = user
                invitation.save(update_fields=["accepted_at", "user"])
                audit.actor = user
                audit.succeeded(f"{user.username} set a password and can log in.")
        except IntegrityError:
            raise ServiceError(f"The login name “{invitation.username}” is taken.") from None
    return user
