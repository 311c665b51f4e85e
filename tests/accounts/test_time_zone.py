"""Each portal user's time zone: the profile page sets it, the middleware activates it, and a
staff user who only sets a zone does not become an operator for good."""

from __future__ import annotations

import zoneinfo

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.models import PortalProfile
from accounts.roles import role_of
from accounts.zones import UserTimeZoneMiddleware, time_zone_of

pytestmark = pytest.mark.django_db


def test_default_is_the_portal_zone(settings, django_user_model):
    settings.TIME_ZONE = "America/New_York"
    user = django_user_model.objects.create_user("plain", password="x")
    assert time_zone_of(user) == zoneinfo.ZoneInfo("America/New_York")


def test_profile_page_sets_the_zone_and_pages_use_it(client, django_user_model):
    user = django_user_model.objects.create_user("boss", password="x", is_staff=True)
    client.force_login(user)
    page = client.get(reverse("accounts:profile")).content.decode()
    assert "Portal default" in page and "Europe/Paris" in page

    response = client.post(reverse("accounts:profile"), {"time_zone": "Asia/Bangkok"})
    assert response.status_code == 302
    profile = PortalProfile.objects.get(user=user)
    assert profile.time_zone == "Asia/Bangkok" and profile.role == ""
    assert time_zone_of(user).key == "Asia/Bangkok"
    page = client.get(reverse("accounts:profile")).content.decode()
    assert "Asia/Bangkok (UTC+07:00)" in page

    # The middleware activates it for the request, and leaves nothing behind.
    seen = []

    def view(request):
        seen.append(timezone.get_current_timezone_name())
        return HttpResponse()

    request = RequestFactory().get("/")
    request.user = user
    UserTimeZoneMiddleware(view)(request)
    assert seen == ["Asia/Bangkok"]
    assert timezone.get_current_timezone_name() != "Asia/Bangkok"

    # The staff flag still decides the operator role.
    assert role_of(user) == "operator"
    user.is_staff = False
    user.save()
    assert role_of(user) is None


def test_unknown_zone_is_refused_next_to_the_field(client, django_user_model):
    user = django_user_model.objects.create_user("someone", password="x", is_staff=True)
    client.force_login(user)
    response = client.post(reverse("accounts:profile"), {"time_zone": "Mars/Olympus"})
    assert response.status_code == 200
    assert response.context["form"].errors["time_zone"]
    assert not PortalProfile.objects.filter(user=user).exists()


def test_back_to_the_portal_default(client, django_user_model, settings):
    settings.TIME_ZONE = "UTC"
    user = django_user_model.objects.create_user("r", password="x", is_staff=True)
    PortalProfile.objects.create(user=user, role="", time_zone="Asia/Tokyo")
    client.force_login(user)
    client.post(reverse("accounts:profile"), {"time_zone": ""})
    assert time_zone_of(django_user_model.objects.get(pk=user.pk)).key == "UTC"
