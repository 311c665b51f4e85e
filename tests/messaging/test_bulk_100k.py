"""Acceptance 4: a 100,000-row CSV uploads and is checked in flat memory, its bad rows are
reported by row number, and the rest become the send's destinations (one INSERT … SELECT).

Submitting 100,000 requests takes minutes, so the sending part is measured by
``bench/send.py`` (docs/benchmarks.md); ``test_bulk_send.py`` sends files with bad rows end to
end against the sandbox.
"""

from __future__ import annotations

import csv
import threading
from pathlib import Path

import pytest
from django.core.files import File

from accounts.models import BearSMSAccount
from messaging.models import RecipientFile, SendDestination
from messaging.services import bulk

from .conftest import portal_user

pytestmark = [pytest.mark.slow, pytest.mark.django_db, pytest.mark.timeout(900)]

ROWS = 100_000
BAD_EVERY = 97  # every 97th row has no valid number


def _rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class RssWatch:
    """The peak resident memory of this process over a block, sampled every 20 ms, less the
    memory before it (sampling costs nothing to the code measured, unlike tracemalloc)."""

    def __enter__(self):
        self.before = self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())
        self.growth = self.peak - self.before


def test_100k_rows_upload_check_and_become_destinations(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr(bulk, "enqueue", lambda *args: None)
    monkeypatch.setattr(bulk, "start_send", lambda send: None)
    account = BearSMSAccount(username="big")
    account.store_token("t" * 32)
    account.save()
    user = portal_user("big-portal", role="reseller", account=account)

    path = tmp_path / "100k.csv"
    bad_rows = []
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["phone", "name"])
        for i in range(ROWS):
            row = i + 2
            if i % BAD_EVERY == 0:
                bad_rows.append(row)
                writer.writerow([f"x{i}", f"Bad {i}"])
            else:
                writer.writerow([f"+1415{2000000 + i:07d}", f"Person {i}"])
    with open(path, "rb") as handle:
        recipient_file = bulk.recipient_file_upload(
            actor=user, account=account, upload=File(handle, name="100k.csv")
        )
    bulk.recipient_file_map(
        actor=user, recipient_file=recipient_file, header=True, number_column=0, text="Hi {name}"
    )

    with RssWatch() as watch:
        assert bulk.recipient_file_check(file_id=recipient_file.pk) == "checked"
    recipient_file.refresh_from_db()
    good = ROWS - len(bad_rows)
    assert (recipient_file.rows_read, recipient_file.rows_good) == (ROWS, good)
    assert recipient_file.rows_bad == len(bad_rows)
    # the file is ~3.6 MB and never held whole; what grows is the set of numbers seen
    # (duplicates, ~100 bytes a row)
    assert watch.growth < 60_000_000, f"the check grew the process by {watch.growth:,} bytes"

    header, *reported = bulk.bad_rows_report(recipient_file)
    assert header == ("Row", "Value", "Reason")
    assert [row for row, _, _ in reported] == bad_rows
    assert reported[0] == (2, "x0", "Not a phone number.")

    send = bulk.bulk_send_start(actor=user, recipient_file=recipient_file)
    assert send.destinations_total == good
    destinations = SendDestination.objects.filter(send=send)
    assert destinations.count() == good
    assert not destinations.filter(position__in=bad_rows[:500]).exists()
    last = destinations.order_by("-position").first()
    assert (last.position, last.address, last.text) == (
        ROWS + 1,
        f"1415{2000000 + ROWS - 1:07d}",
        f"Hi Person {ROWS - 1}",
    )
    assert recipient_file.__class__.objects.get(pk=recipient_file.pk).state == (
        RecipientFile.State.SENDING
    )
