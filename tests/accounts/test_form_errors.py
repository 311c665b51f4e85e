"""Issue 11, acceptance 2: a form reports every field's problem at once, keeps no password
(and says so), and the stoplist refuses what is not a number instead of cutting it."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts.models import AuditEntry, StoplistNumber

from .conftest import keyed

pytestmark = pytest.mark.django_db


def _errors(html: str) -> list[str]:
    return re.findall(r'<div class="invalid-feedback d-block">([^<]*)</div>', html)


def test_new_account_form_shows_four_errors_at_once(client, operator_user):
    client.force_login(operator_user)
    response = client.post(
        reverse("accounts:create"),
        keyed(
            {
                "username": "No Spaces!",  # not a BearSMS username
                "password": "abc",  # too short
                "name": "Someone",
                "email": "not-an-address",
                "level": "2",
                "timezone_offset": "+7",  # not one of the offsets
            }
        ),
    )
    assert response.status_code == 200
    html = response.content.decode()
    errors = _errors(html)
    assert len(errors) == 4, errors
    assert "Type Password again" in html
    assert 'name="password"' in html and 'value="abc"' not in html
    # nothing reached the service: no audit entry, no account
    assert not AuditEntry.objects.filter(action="accountadd").exists()


def test_time_zone_is_chosen_from_offsets_named_by_zones(client, operator_user):
    client.force_login(operator_user)
    html = client.get(reverse("accounts:create")).content.decode()
    assert '<option value="+0700">UTC+07:00 — ' in html
    assert '<option value="+0545">UTC+05:45 — Asia/Kathmandu' in html
    assert "---------" not in html


@pytest.mark.parametrize(
    "typed",
    ["+62 812 0000 0001 2345 6789", "62812000000012345", "call me", "12"],
)
def test_stoplist_refuses_instead_of_cutting(client, operator_user, typed):
    client.force_login(operator_user)
    response = client.post(reverse("accounts:stoplist"), keyed({"number": typed}))
    assert response.status_code == 200
    assert _errors(response.content.decode()) == [
        "Enter a number: 3 to 15 digits, with an optional leading +."
    ]
    assert not StoplistNumber.objects.exists()
