"""Bootstrap 5 classes on form widgets: one rule for the portal's forms and its filter bars."""

from __future__ import annotations

from collections.abc import Iterable

from django import forms


def bootstrap_class(widget: forms.Widget, *, small: bool = False) -> str:
    """The Bootstrap class a widget takes: a check box, a select or a text-like control
    (``small``: the compact size of a filter bar)."""
    if isinstance(widget, forms.CheckboxInput):
        return "form-check-input"
    base = "form-select" if isinstance(widget, forms.Select) else "form-control"
    return f"{base} {base}-sm" if small else base


def style_widgets(fields: Iterable[forms.Field], *, small: bool = False) -> None:
    """Give each field's widget its Bootstrap class, in front of any class it already has."""
    for field in fields:
        widget = field.widget
        css = bootstrap_class(widget, small=small)
        classes = widget.attrs.get("class", "")
        if css.split()[0] not in classes.split():
            widget.attrs["class"] = f"{css} {classes}".strip()
