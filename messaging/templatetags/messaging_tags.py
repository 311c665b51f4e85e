"""``{% load messaging_tags %}``: ``user|is_operator`` for navigation and page sections.

Dates and credit figures: ``bearsms_portal/templatetags/portal_format.py`` (on every page)."""

from django import template

from accounts.roles import is_operator as _is_operator

register = template.Library()


@register.filter
def is_operator(user) -> bool:
    return _is_operator(user)


@register.filter
def clip(text: str, length: int = 80) -> str:
    """At most ``length`` characters, with an ellipsis; the result is still autoescaped."""
    text = text or ""
    return text if len(text) <= length else text[: length - 1] + "…"
