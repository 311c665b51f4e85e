"""``{% load messaging_tags %}``: ``user|is_operator`` for navigation and page sections."""

from django import template
from django.utils import timezone

from accounts.roles import is_operator as _is_operator

register = template.Library()


@register.filter
def is_operator(user) -> bool:
    return _is_operator(user)


@register.filter
def stamp(moment) -> str:
    """``YYYY-MM-DD hh:mm:ss`` in the current time zone (cheaper than ``date`` in long lists)."""
    if not moment:
        return ""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


@register.filter
def clip(text: str, length: int = 80) -> str:
    """At most ``length`` characters, with an ellipsis; the result is still autoescaped."""
    text = text or ""
    return text if len(text) <= length else text[: length - 1] + "…"
