"""django-filter sets of the accounts pages. Choice querysets are scoped to the user too, so a
drop-down never lists an account the user may not see."""

import django_filters as filters
from django import forms
from django.db.models import Q

from bearsms_portal.filtering import PortalFilterSet

from .audit import ACTION_LABELS
from .models import AuditEntry, BearSMSAccount, CreditLedgerEntry
from .selectors import accounts_visible_to

_SELECT = {"class": "form-select form-select-sm"}
_INPUT = {"class": "form-control form-control-sm"}


def _date(label):
    return forms.DateInput(attrs={**_INPUT, "type": "date", "aria-label": label})


class AccountFilter(PortalFilterSet):
    q = filters.CharFilter(
        method="search",
        label="Search",
        widget=forms.TextInput(attrs={**_INPUT, "placeholder": "username, name, email"}),
    )
    level = filters.ChoiceFilter(
        choices=BearSMSAccount.Level.choices, widget=forms.Select(attrs=_SELECT)
    )
    parent = filters.ModelChoiceFilter(
        queryset=BearSMSAccount.objects.none(), label="Reseller", widget=forms.Select(attrs=_SELECT)
    )
    status = filters.ChoiceFilter(
        choices=BearSMSAccount.Status.choices, widget=forms.Select(attrs=_SELECT)
    )
    linked = filters.BooleanFilter(
        method="filter_linked",
        label="Linked",
        widget=forms.Select(
            attrs=_SELECT,
            choices=[("", "Linked: any"), ("true", "linked"), ("false", "not linked")],
        ),
    )

    class Meta:
        model = BearSMSAccount
        fields = ["q", "level", "parent", "status", "linked"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["parent"].queryset = accounts_visible_to(user).filter(
            level=BearSMSAccount.Level.USER
        )

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(username__icontains=value) | Q(name__icontains=value) | Q(email__icontains=value)
        )

    def filter_linked(self, queryset, name, value):
        if value is None:
            return queryset
        return (
            queryset.exclude(token_encrypted="") if value else queryset.filter(token_encrypted="")
        )


class _CreatedBetween(PortalFilterSet):
    """A date range on ``created_at``, for the log pages."""

    since = filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", label="From", widget=_date("from")
    )
    until = filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", label="To", widget=_date("to")
    )


class AuditFilter(_CreatedBetween):
    account = filters.CharFilter(
        field_name="target_username",
        lookup_expr="icontains",
        label="Account",
        widget=forms.TextInput(attrs=_INPUT),
    )
    action = filters.ChoiceFilter(
        field_name="action",
        lookup_expr="startswith",  # "credittransfer" also finds its steps ("credittransfer.done")
        choices=sorted(ACTION_LABELS.items(), key=lambda item: item[1]),
        widget=forms.Select(attrs=_SELECT),
    )
    outcome = filters.ChoiceFilter(
        choices=AuditEntry.Outcome.choices, widget=forms.Select(attrs=_SELECT)
    )
    actor = filters.CharFilter(
        field_name="actor_username", lookup_expr="icontains", widget=forms.TextInput(attrs=_INPUT)
    )

    class Meta:
        model = AuditEntry
        fields = ["account", "action", "outcome", "actor", "since", "until"]


class LedgerFilter(_CreatedBetween):
    account = filters.CharFilter(
        field_name="account_username",
        lookup_expr="icontains",
        label="Account",
        widget=forms.TextInput(attrs=_INPUT),
    )
    kind = filters.ChoiceFilter(
        choices=CreditLedgerEntry.Kind.choices, widget=forms.Select(attrs=_SELECT)
    )
    reason = filters.CharFilter(lookup_expr="icontains", widget=forms.TextInput(attrs=_INPUT))

    class Meta:
        model = CreditLedgerEntry
        fields = ["account", "kind", "reason", "since", "until"]
