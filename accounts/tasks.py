"""Celery tasks of the accounts app: thin, take ids, safe to run twice.

- :func:`advance_transfer` runs a credit transfer's next steps (``accounts.transfers``); when
  the accounts are busy or the server cannot be read it tries again later.
- :func:`resume_transfers` (beat) picks up transfers a dead worker left unfinished.
- :func:`credit_reconcile` (beat, daily) compares every linked account's server figure with the
  portal's expectation (``accounts.reconcile``).
"""

from __future__ import annotations

from celery import shared_task

from . import reconcile, transfers


@shared_task(
    name="accounts.advance_transfer",
    bind=True,
    ignore_result=True,
    max_retries=20,
    acks_late=True,
)
def advance_transfer(self, transfer_id: int) -> str:
    transfer = transfers.advance(transfer_id)
    if not transfer.is_final and transfer.state != transfer.State.ATTENTION:
        raise self.retry(countdown=min(60, 2 ** min(self.request.retries, 6)))
    return transfer.state


@shared_task(name="accounts.resume_transfers", ignore_result=True)
def resume_transfers() -> int:
    ids = list(transfers.unfinished().values_list("pk", flat=True))
    for pk in ids:
        advance_transfer.delay(pk)
    return len(ids)


@shared_task(name="accounts.credit_reconcile", ignore_result=True)
def credit_reconcile() -> int:
    return len(reconcile.reconcile_all())


@shared_task(name="accounts.settle_unknown", ignore_result=True)
def settle_unknown() -> int:
    """Beat: settle the writes whose outcome is unknown and due (``accounts.settling``)."""
    from . import settling

    return settling.settle_due()
