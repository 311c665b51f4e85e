"""Bulk sends from a file: upload, column mapping, the check of every row, preview and report.

These run without a server (the check never calls the API); the send itself is tested against
the sandbox in ``test_bulk_send.py``.
"""

from __future__ import annotations

import csv
import io
import uuid

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import BearSMSAccount
from messaging.models import RecipientFile, RecipientRow

from .conftest import portal_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _eager(settings, tmp_path):
    import messaging.tasks  # noqa: F401 (registers the tasks the services queue by name)
    from bearsms_portal.celery import app

    settings.MEDIA_ROOT = tmp_path
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def alice():
    account = BearSMSAccount(username="alice")
    account.store_token("t" * 32)
    account.save()
    return account


@pytest.fixture
def alice_user(alice):
    return portal_user("alice_u", role="reseller", account=alice)


def _upload(client, account, name: str, data: bytes):
    return client.post(
        reverse("messaging:bulk_upload"),
        {
            "account": account.pk,
            "file": SimpleUploadedFile(name, data),
            "form_key": str(uuid.uuid4()),
        },
    )


CSV_WITH_BAD_ROWS = (
    b"Name,Mobile,City\n"
    b"Ann,+14155550101,Oslo\n"
    b"Bob,not a number,Rome\n"
    b"Cy,+14155550102,\n"
    b"Dee,,Lima\n"
    b"Eve,+1 415 555 0101,Kyiv\n"
    b"Fay,+14155550103,Pune\n"
)


def test_upload_map_check_preview_and_report(
    client, alice, alice_user, django_capture_on_commit_callbacks
):
    client.force_login(alice_user)
    response = _upload(client, alice, "list.csv", CSV_WITH_BAD_ROWS)
    assert response.status_code == 302
    recipient_file = RecipientFile.objects.get()
    assert response.url == reverse("messaging:bulk_map", args=[recipient_file.pk])
    assert recipient_file.header and recipient_file.number_column == 1
    assert recipient_file.columns == ["name", "mobile", "city"]

    page = client.get(response.url)
    assert b"{name}" in page.content and b"Ann" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            response.url,
            {"header": "on", "number_column": 1, "text": "Hi {name} in {city}"},
        )
    assert response.status_code == 302, response.content
    recipient_file.refresh_from_db()
    assert recipient_file.state == RecipientFile.State.CHECKED
    assert (recipient_file.rows_read, recipient_file.rows_good, recipient_file.rows_bad) == (
        6,
        2,
        4,
    )
    good = list(RecipientRow.objects.filter(file=recipient_file, reason="").order_by("row"))
    assert [(r.row, r.number, r.text) for r in good] == [
        (2, "14155550101", "Hi Ann in Oslo"),
        (7, "14155550103", "Hi Fay in Pune"),
    ]

    page = client.get(reverse("messaging:bulk_file", args=[recipient_file.pk]))
    assert b"Hi Ann in Oslo" in page.content and b"Duplicate" in page.content

    report = client.get(reverse("messaging:bulk_bad_rows", args=[recipient_file.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode("utf-8-sig"))))
    assert rows == [  # values as entered, kept text in a spreadsheet (bearsms_portal.csvfile)
        ["Row", "Value", "Reason"],
        ["3", "not a number", "Not a phone number."],
        ["4", "'+14155550102", "Empty field used in the text: {city}."],
        ["5", "", "No number in the number column."],
        ["6", "'+1 415 555 0101", "Duplicate: the same number is on row 2."],
    ]


def test_xlsx_upload_reads_numbers_as_digits(
    client, alice, alice_user, django_capture_on_commit_callbacks
):
    book = openpyxl.Workbook()
    book.active.append(["Phone", "Name"])
    book.active.append([14155550101, "Ann"])
    data = io.BytesIO()
    book.save(data)
    client.force_login(alice_user)
    response = _upload(client, alice, "list.xlsx", data.getvalue())
    recipient_file = RecipientFile.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(response.url, {"header": "on", "number_column": 0, "text": "Hi {name}"})
    row = RecipientRow.objects.get(file=recipient_file)
    assert (row.row, row.number, row.text, row.reason) == (2, "14155550101", "Hi Ann", "")


def test_mapping_refuses_an_unknown_field(client, alice, alice_user):
    client.force_login(alice_user)
    response = _upload(client, alice, "list.csv", CSV_WITH_BAD_ROWS)
    page = client.post(response.url, {"header": "on", "number_column": 1, "text": "Hi {nmae}"})
    assert page.status_code == 200
    assert "No column is called {nmae}" in page.content.decode()
    assert RecipientFile.objects.get().state == RecipientFile.State.UPLOADED


def test_unreadable_upload_is_refused_on_the_form(client, alice, alice_user):
    client.force_login(alice_user)
    page = _upload(client, alice, "list.xls", b"\xd0\xcf\x11\xe0")
    assert page.status_code == 200 and b"cannot be read" in page.content
    page = _upload(client, alice, "list.xlsx", b"not a zip")
    assert page.status_code == 200 and b"not an Excel workbook" in page.content
    assert not RecipientFile.objects.exists()


def test_another_reseller_cannot_see_or_use_the_file(client, alice, alice_user):
    client.force_login(alice_user)
    _upload(client, alice, "list.csv", CSV_WITH_BAD_ROWS)
    recipient_file = RecipientFile.objects.get()
    bob = BearSMSAccount(username="bob")
    bob.store_token("b" * 32)
    bob.save()
    client.force_login(portal_user("bob_u", role="reseller", account=bob))
    for name in ("bulk_file", "bulk_map", "bulk_status", "bulk_bad_rows"):
        assert client.get(reverse(f"messaging:{name}", args=[recipient_file.pk])).status_code == 404
    # and bob cannot upload as alice
    page = _upload(client, alice, "list.csv", CSV_WITH_BAD_ROWS)
    assert page.status_code == 200 and RecipientFile.objects.count() == 1


def test_mapping_again_during_a_check_supersedes_it(alice, alice_user, settings, monkeypatch):
    from messaging import bulkfile
    from messaging.services import bulk

    settings.BULK_CHUNK = 2
    queued = []
    monkeypatch.setattr(bulk, "enqueue", lambda _task, file_id: queued.append(file_id))
    recipient_file = bulk.recipient_file_upload(
        actor=alice_user, account=alice, upload=SimpleUploadedFile("l.csv", CSV_WITH_BAD_ROWS)
    )
    remap = {"header": True, "number_column": 1, "text": "Second {name}"}
    real_check_rows = bulkfile.check_rows

    def check_rows_then_remap(rows, mapping):
        for n, result in enumerate(real_check_rows(rows, mapping)):
            if n == 3:  # a chunk is already written: the user maps the file again
                bulk.recipient_file_map(actor=alice_user, recipient_file=recipient_file, **remap)
            yield result

    bulk.recipient_file_map(
        actor=alice_user, recipient_file=recipient_file, header=True, number_column=1, text="First"
    )
    monkeypatch.setattr(bulkfile, "check_rows", check_rows_then_remap)
    assert bulk.recipient_file_check(file_id=recipient_file.pk) == "superseded"
    monkeypatch.setattr(bulkfile, "check_rows", real_check_rows)
    assert bulk.recipient_file_check(file_id=recipient_file.pk) == "checked"
    texts = list(
        RecipientRow.objects.filter(file=recipient_file, reason="").values_list("text", flat=True)
    )
    assert texts == ["Second Ann", "Second Cy", "Second Fay"]
    recipient_file.refresh_from_db()
    assert (recipient_file.rows_read, recipient_file.rows_good) == (6, 3)
