"""Issue 11: filter bars — "Any …" choices, From after To and invalid values are errors with an
empty result, the destination read as people type it, sender by substring."""

from __future__ import annotations

import pytest

from messaging.filters import OutgoingFilter
from messaging.models import OutgoingMessage

pytestmark = pytest.mark.django_db


def _filter(operator_user, **data):
    return OutgoingFilter(data, queryset=OutgoingMessage.objects.all(), user=operator_user)


def test_selects_say_any(operator_user):
    html = str(_filter(operator_user).form)
    assert "---------" not in html
    assert ">Any status<" in html and ">Any account<" in html and ">Any time<" in html
    assert 'class="form-select form-select-sm' in html


def test_from_after_to_is_an_error_and_shows_nothing(operator_user):
    bar = _filter(operator_user, since="2026-11-30T12:00", until="2026-11-29T12:00")
    assert not bar.is_valid()
    assert "“To” is before “From”." in bar.errors["until"]
    assert bar.qs.query.is_empty()


def test_an_invalid_value_shows_nothing_not_everything(operator_user):
    bar = _filter(operator_user, status="9")
    assert not bar.is_valid() and bar.qs.query.is_empty()


def test_destination_as_typed_and_sender_by_part(operator_user):
    sql = str(_filter(operator_user, dst="+62 812-345", src="ACME").qs.query)
    assert "62812345%" in sql and "%ACME%" in sql.upper()
