"""Who is who: the role of a portal user, decided in one place.

A user with a :class:`~accounts.models.PortalProfile` has that profile's role. A staff user
without one is an operator (the provider's staff). Anyone else has no role and sees nothing.
"""

from __future__ import annotations

from .models import BearSMSAccount, PortalProfile

Role = PortalProfile.Role


def profile_of(user) -> PortalProfile | None:
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.portal_profile
    except PortalProfile.DoesNotExist:
        return None


def role_of(user) -> str | None:
    """``"operator"``, ``"reseller"``, ``"subaccount"`` or ``None``."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    profile = profile_of(user)
    if profile is not None and profile.role:
        return profile.role
    return Role.OPERATOR if user.is_staff else None


def account_of(user) -> BearSMSAccount | None:
    """The BearSMS account a reseller or subaccount user is (None for operators)."""
    profile = profile_of(user)
    return profile.account if profile is not None else None


def is_operator(user) -> bool:
    return role_of(user) == Role.OPERATOR
