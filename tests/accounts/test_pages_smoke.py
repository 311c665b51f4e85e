"""Pages that need no server: the empty operator pages render, with CSRF-protected forms."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

PAGES = [
    "accounts:list",
    "accounts:create",
    "accounts:import",
    "accounts:audit",
    "accounts:ledger",
    "accounts:inject",
    "accounts:stoplist",
]


@pytest.mark.parametrize("name", PAGES)
def test_operator_pages_render(client, operator_user, name):
    client.force_login(operator_user)
    response = client.get(reverse(name))
    assert response.status_code == 200
    if b'<form method="post"' in response.content:
        assert b"csrfmiddlewaretoken" in response.content


@pytest.mark.parametrize(
    "name", ["accounts:list_export", "accounts:audit_export", "accounts:ledger_export"]
)
def test_empty_exports(client, operator_user, name):
    client.force_login(operator_user)
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")


def test_users_without_role_see_nothing(client, django_user_model):
    user = django_user_model.objects.create_user(username="nobody", password="x-password-1")
    client.force_login(user)
    for name in PAGES:
        assert client.get(reverse(name)).status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("accounts:list"))
    assert response.status_code == 302 and "/login/" in response["Location"]
