"""Issue 11: a message after every action — here logging out (the sync's "Pull now" and the
sandbox's fault switches say theirs too)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_logout_says_so(client, operator_user):
    client.force_login(operator_user)
    response = client.post(reverse("logout"), follow=True)
    assert response.status_code == 200
    assert "You are logged out." in response.content.decode()
