"""Issue 11, "Forms": the country is chosen from a list of names; the server's numeric id is
what is posted, saved (through the sandbox) and kept, and account pages show the name."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import reverse

from accounts import countries
from messaging.recipients import region_for

from .conftest import keyed

pytestmark = pytest.mark.django_db

INDONESIA, UNKNOWN = 82, 250


def _options(html: str) -> list[tuple[str, str, bool]]:
    select = re.search(r'<select name="country".*?</select>', html, re.S).group(0)
    return [
        (value, label, bool(selected))
        for value, selected, label in re.findall(
            r'<option value="([^"]*)"( selected)?>([^<]*)</option>', select
        )
    ]


def _prefs(world):
    return reverse("accounts:prefs", kwargs={"pk": world.sub_a.pk})


def test_every_server_id_has_a_name_and_the_list_is_sorted_by_name():
    rows = countries.choices()
    assert [country_id for country_id, _ in sorted(rows)] == list(range(1, 206))
    names = [name for _, name in rows]
    assert all(names) and len(set(names)) == len(names)
    assert countries.name_of(INDONESIA) == "Indonesia"
    assert countries.name_of(27) == "Myanmar"  # ids follow the server's table, not the alphabet
    assert countries.name_of(193) == "United Kingdom"
    assert names.index("Costa Rica") < names.index("Côte d'Ivoire") < names.index("Croatia")
    assert countries.name_of(UNKNOWN) == "Unknown country (id 250)"
    assert countries.name_of(None) == countries.name_of(0) == ""


def test_the_form_offers_names_and_saves_the_id_on_the_server(world, client):
    client.force_login(world.operator)
    html = client.get(_prefs(world)).content.decode()
    options = _options(html)
    assert options[0] == ("", "Not set", True)  # none set yet: nothing is chosen for the user
    assert ("82", "Indonesia", False) in options
    assert len(options) == 206 and "---------" not in html

    response = client.post(_prefs(world), keyed({"country": str(INDONESIA)}))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert world.sandbox.user("resa-sub").country == INDONESIA
    world.sub_a.refresh_from_db()
    assert world.sub_a.country == INDONESIA
    sent = world.sandbox.requests("accountpref")[-1]
    assert sent.params["data_country"] == "82"

    options = _options(client.get(_prefs(world)).content.decode())
    assert ("82", "Indonesia", True) in options
    assert not any(value == "" for value, _, _ in options)  # the server cannot clear it
    detail = client.get(reverse("accounts:detail", kwargs={"pk": world.sub_a.pk}))
    assert '<dd class="col-8">Indonesia</dd>' in detail.content.decode()
    assert region_for(world.sub_a) == "ID"


def test_an_unknown_stored_id_is_shown_and_kept(world, client):
    """An id outside the server's table (set before the portal, or by hand) stays as it is when
    other fields are saved: it is neither refused nor replaced by a listed country."""
    world.sub_a.country = UNKNOWN
    world.sub_a.save(update_fields=["country"])
    on_server = world.sandbox.user("resa-sub")
    on_server.country = UNKNOWN
    on_server.save(update_fields=["country"])
    client.force_login(world.operator)
    options = _options(client.get(_prefs(world)).content.decode())
    assert options[0] == ("250", "Unknown country (id 250)", True)

    response = client.post(_prefs(world), keyed({"country": "250", "city": "Bandung"}))
    assert response.status_code == 302
    world.sub_a.refresh_from_db()
    assert (world.sub_a.country, world.sub_a.city) == (UNKNOWN, "Bandung")
    assert "data_country" not in world.sandbox.requests("accountpref")[-1].params
    assert world.sandbox.user("resa-sub").country == UNKNOWN
    detail = client.get(reverse("accounts:detail", kwargs={"pk": world.sub_a.pk})).content
    assert b"Unknown country (id 250)" in detail
    # a country unknown to the portal reads numbers in the portal's default region
    assert region_for(world.sub_a) == (settings.DEFAULT_PHONE_REGION or "").upper()
