"""Stoplist numbers in the form the server stores (issue 13, acceptance 4)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import services
from accounts.errors import ServiceError
from accounts.models import StoplistNumber
from bearsms_portal.sandbox.models import StoplistEntry

from .conftest import keyed


def test_three_spellings_make_one_server_row(sandbox, operator_user, client):
    client.force_login(operator_user)
    # Typed on the page, with spaces and dashes (17 characters: no silent length limit).
    response = client.post(reverse("accounts:stoplist"), keyed({"number": "+62 812-7777-0001"}))
    assert response.status_code == 302
    for spelling in ("6281277770001", "+6281277770001"):
        with pytest.raises(ServiceError) as info:
            services.stoplist_add(actor=operator_user, number=spelling)
        assert (info.value.code, info.value.field) == (627, "number")

    assert list(StoplistEntry.objects.values_list("mobile", flat=True)) == ["6281277770001"]
    sent = [r.params["from"] for r in sandbox.requests("stoplist")]
    assert sent == ["6281277770001"] * 3
    record = StoplistNumber.objects.get()
    assert (record.number, record.typed, record.already_on_server) == (
        "6281277770001",
        "+62 812-7777-0001",
        False,
    )


def test_a_number_already_on_the_server_is_recorded(sandbox, operator_user):
    sandbox.stoplist("6281277770009")  # added outside the portal
    with pytest.raises(ServiceError) as info:
        services.stoplist_add(actor=operator_user, number="+62 812 7777 0009")
    assert info.value.code == 627 and "already on the stoplist" in info.value.message
    assert StoplistNumber.objects.get().already_on_server
    assert StoplistEntry.objects.count() == 1


def test_what_is_not_a_number_is_refused_not_cut(sandbox, operator_user):
    for bad in ("call me", "+62 812 7777 0001 2345 678"):
        with pytest.raises(ServiceError) as info:
            services.stoplist_add(actor=operator_user, number=bad)
        assert info.value.field == "number"
    assert not sandbox.requests("stoplist") and not StoplistEntry.objects.exists()
