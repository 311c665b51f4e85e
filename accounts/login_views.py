"""Portal logins: who can log in as an account, invitations (create, resend, revoke) and the
public page where an invitee sets a password. Thin: ``accounts.invitations`` decides."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from bearsms_portal.pages import run_service

from . import invitations
from .errors import ServiceError
from .forms import AcceptInvitationForm, InviteForm
from .models import PortalInvitation
from .views import _account, _offered


def _logins_page(request, account, form, *, link=None):
    return render(
        request,
        "accounts/logins.html",
        {
            "account": account,
            "form": form,
            "logins": invitations.logins_of(account),
            "invitations": account.invitations.all(),
            "link": link,
        },
    )


@login_required
def account_logins(request, pk):
    """Who can log in as this account; invite someone (the link is shown once)."""
    account = _account(request, pk)
    if request.method != "POST":
        _offered(request, "portalinvite", account)
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ran = run_service(
            request, invitations.invite, form=form, account=account, **form.cleaned_data
        )
        if ran:
            invitation, token = ran.result
            messages.success(request, f"Invitation for {invitation.username} created.")
            return _logins_page(
                request, account, InviteForm(), link=invitations.invitation_url(token)
            )
    return _logins_page(request, account, form)


def _invitation(request, pk, invitation_pk) -> PortalInvitation:
    account = _account(request, pk)
    if request.method != "POST":
        raise Http404
    return get_object_or_404(PortalInvitation, pk=invitation_pk, account=account)


@login_required
def invitation_resend(request, pk, invitation_pk):
    invitation = _invitation(request, pk, invitation_pk)
    ran = run_service(
        request, invitations.resend, account=invitation.account, invitation=invitation
    )
    if not ran:
        return redirect("accounts:logins", pk=pk)
    invitation, token = ran.result
    messages.success(request, f"New link for {invitation.username}; the old one no longer works.")
    return _logins_page(
        request, invitation.account, InviteForm(), link=invitations.invitation_url(token)
    )


@login_required
def invitation_revoke(request, pk, invitation_pk):
    invitation = _invitation(request, pk, invitation_pk)
    if run_service(request, invitations.revoke, account=invitation.account, invitation=invitation):
        messages.success(request, f"Invitation for {invitation.username} revoked.")
    return redirect("accounts:logins", pk=pk)


def accept_invitation(request, token):
    """Public: the invitee sets a password (the link works once, until it expires)."""
    invitation = invitations.find(token)
    status = invitation.status() if invitation else "invalid"
    form = AcceptInvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = invitations.accept(token=token, password=form.cleaned_data["password1"])
        except ServiceError as exc:
            form.add_service_error(exc)
            status = invitation.status() if invitation else "invalid"
        else:
            messages.success(request, f"Password set: log in as {user.username}.")
            return redirect("login")
    return render(
        request,
        "registration/accept_invitation.html",
        {"invitation": invitation, "status": status, "form": form},
        status=200 if invitation else 404,
    )
