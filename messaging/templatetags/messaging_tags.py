"""``{% load messaging_tags %}``: ``user|is_operator`` for navigation and page sections."""

from django import template

from accounts.roles import is_operator as _is_operator

register = template.Library()


@register.filter
def is_operator(user) -> bool:
    return _is_operator(user)
