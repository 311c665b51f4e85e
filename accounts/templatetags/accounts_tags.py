"""Template helpers: the user's portal role (for navigation) and their own account."""

from django import template

from accounts.roles import account_of, role_of

register = template.Library()


@register.simple_tag
def portal_role(user):
    return role_of(user) or ""


@register.simple_tag
def own_account(user):
    return account_of(user)
