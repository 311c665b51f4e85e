"""A token never appears in a rendered page, a log line or an exception text.

The demo world (built through the services, plus the sandbox's own demo seed)
is walked page by page as each role — lists, exports, every account page and form, the Django
admin — after provoking failures, and every secret the portal knows is searched for.
"""

from __future__ import annotations

import logging

import pytest
from django.conf import settings
from django.urls import reverse

from accounts import services
from accounts import urls as account_urls
from accounts.demo import seed_demo_logins, seed_sandbox
from accounts.errors import ServiceError
from accounts.models import AuditEntry, BearSMSAccount, CreditLedgerEntry
from accounts.selectors import accounts_visible_to
from bearsms_portal.sandbox.models import SandboxUser

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db

ID_URLS = [p.name for p in account_urls.urlpatterns if set(p.pattern.converters) == {"pk"}]
PLAIN_URLS = [
    "accounts:list",
    "accounts:list_export",
    "accounts:create",
    "accounts:import",
    "accounts:audit",
    "accounts:audit_export",
    "accounts:ledger",
    "accounts:ledger_export",
    "accounts:inject",
    "accounts:stoplist",
    "home",
]
ADMIN_URLS = [
    "admin:accounts_bearsmsaccount_changelist",
    "admin:accounts_auditentry_changelist",
    "admin:accounts_creditledgerentry_changelist",
    "admin:accounts_portalprofile_changelist",
]


def _body(response) -> str:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw.decode("utf-8", "replace")


def _secrets(extra=()) -> set[str]:
    found = {a.reveal_token() for a in BearSMSAccount.objects.all()}
    found |= {u.token for u in SandboxUser.objects.all()}
    found |= {settings.BEARSMS_ADMIN_TOKEN, PASSWORD, *extra}
    found |= {key.strip() for key in settings.FIELD_ENCRYPTION_KEY.split(",")}
    return {s for s in found if s and len(s) >= 8}


def _provoke_failures(world) -> list[str]:
    """Failures whose texts (exceptions, messages, audit entries) must stay clean."""
    texts = []
    op = world.operator
    attempts = [
        lambda: services.account_link(actor=op, account=world.sub_b, password="wrong-password"),
        lambda: services.account_create(
            actor=op, username="resa", password=PASSWORD, name="Dup", email="dup@example.org"
        ),
        lambda: services.account_conf(actor=op, account=world.sub_b, sender="NOTMINE"),
        lambda: services.stoplist_add(actor=op, number="15550999"),
        lambda: services.stoplist_add(actor=op, number="15550999"),
    ]
    for attempt in attempts:
        try:
            attempt()
        except ServiceError as exc:
            texts += [str(exc), repr(exc), str(exc.__cause__), repr(exc.__cause__)]
    return texts


def _walk(client, user) -> list[tuple[str, str]]:
    client.force_login(user)
    pages = []
    for name in PLAIN_URLS + (ADMIN_URLS if user.is_staff else []):
        response = client.get(reverse(name))
        assert response.status_code in (200, 302, 403), name
        pages.append((name, _body(response)))
    for account in accounts_visible_to(user):
        for name in ID_URLS:
            url = reverse(f"accounts:{name}", kwargs={"pk": account.pk})
            response = client.get(url)
            assert response.status_code in (200, 403, 404), url
            pages.append((url, _body(response)))
        if user.is_staff:
            url = reverse("admin:accounts_bearsmsaccount_change", args=[account.pk])
            pages.append((url, _body(client.get(url))))
    for entry in AuditEntry.objects.all()[:5] if user.is_staff else []:
        url = reverse("admin:accounts_auditentry_change", args=[entry.pk])
        pages.append((url, _body(client.get(url))))
    client.logout()
    return pages


@pytest.mark.slow
@pytest.mark.timeout(900)  # hundreds of pages: minutes on a loaded machine
def test_no_secret_in_pages_logs_or_exceptions(world, client, caplog):
    caplog.set_level(logging.DEBUG)
    seed_sandbox()
    logins = seed_demo_logins()
    texts = _provoke_failures(world)

    # Log in as: the login key goes to the browser in a redirect, and nowhere else.
    client.force_login(world.operator)
    response = client.post(reverse("accounts:open", kwargs={"pk": world.reseller_a.pk}))
    assert response.status_code == 302
    login_key = response["Location"].rsplit("login_key=", 1)[1]
    client.logout()

    pages = []
    from django.contrib.auth import get_user_model

    demo_users = get_user_model().objects.filter(username__in=[u for _, u, _, _ in logins])
    for user in [world.operator, world.user_a, world.user_sub_a, world.user_b, *demo_users]:
        pages += _walk(client, user)
    assert len(pages) > 100
    assert sum(1 for _, body in pages if "<html" in body) > 60

    secrets = _secrets(extra=[login_key])
    assert len(secrets) >= 6
    audit_text = [str(v) for v in AuditEntry.objects.values_list("message", "details")]
    ledger_text = [str(v) for v in CreditLedgerEntry.objects.values_list()]
    log_text = [caplog.text] + [r.getMessage() for r in caplog.records]
    leaks = [
        (where[:60], secret[:4] + "…")
        for secret in secrets
        for where, text in [
            *pages,
            *(("exception", t) for t in texts),
            *(("audit", t) for t in audit_text),
            *(("ledger", t) for t in ledger_text),
            *(("log", t) for t in log_text),
        ]
        if secret in text
    ]
    assert not leaks
