"""The base of every list filter (django-filter), so that all filter bars behave alike:

- widgets carry Bootstrap classes (small controls for a filter bar);
- a select with no choice made says "Any …" (``Any status``), never ``---------``;
- "From" after "To" is an error;
- an invalid filter shows its errors and an empty result, never the unfiltered list.
"""

from __future__ import annotations

import django_filters
from django_filters.conf import settings as filter_settings

from .widgets import style_widgets

#: the (from, to) filter names checked for order
RANGE = ("since", "until")


def any_label(label: str) -> str:
    return f"Any {(label or 'value').lower()}"


class PortalFilterSet(django_filters.FilterSet):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for filter_ in self.filters.values():
            if not isinstance(filter_, django_filters.ChoiceFilter):
                continue
            label = filter_.extra.get("empty_label", filter_settings.EMPTY_CHOICE_LABEL)
            if label == filter_settings.EMPTY_CHOICE_LABEL:
                filter_.extra["empty_label"] = any_label(str(filter_.label or ""))

    @property
    def form(self):
        if not hasattr(self, "_form"):
            form = super().form
            style_widgets(form.fields.values(), small=True)
        return self._form

    def is_valid(self) -> bool:
        valid = super().is_valid()
        if valid:
            start, end = (self.form.cleaned_data.get(name) for name in RANGE)
            if start and end and start > end:
                self.form.add_error(RANGE[1], "“To” is before “From”.")
                return False
        return valid

    @property
    def qs(self):
        if self.is_bound and not self.is_valid():
            return self.queryset.none()
        return super().qs
