"""What every page that runs a service shares: :func:`run_service`.

Permission is decided once, in the service (``ensure_can`` under ``@audits_refusals``, which
writes the "refused" audit entry). A view never re-decides it before a POST: it calls the
service, and the service's ``PermissionDenied`` travels on to Django, which answers with the
styled 403 page (``templates/403.html``). A page may still ask ``can()`` to decide what to
*show* — a button, or a form on GET — exactly as a template hides a button.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages

from accounts.errors import ServiceError


@dataclass(frozen=True)
class Ran:
    """How a service call went: true when it succeeded; ``result`` is what it returned."""

    ok: bool
    result: Any = None

    def __bool__(self) -> bool:
        return self.ok


def run_service(request, service: Callable[..., Any], /, *, form=None, **kwargs) -> Ran:
    """Run ``service(actor=request.user, **kwargs)`` for a page and show its error.

    A form with a one-time key (``accounts.idempotency``) passes it as ``form_key``.
    A :class:`~accounts.errors.ServiceError` goes next to its field on ``form`` (a form page,
    shown again) or, without a form, into the messages of the next page, and the answer is a
    false :class:`Ran`. ``PermissionDenied`` is not caught: it becomes the 403 page.
    """
    form_key = getattr(form, "form_key", None)
    if form_key:  # the form's one-time key: a resent form gets the first outcome
        kwargs["form_key"] = form_key
    try:
        result = service(actor=request.user, **kwargs)
    except ServiceError as exc:
        if form is not None:
            form.add_service_error(exc)
            if form_key:
                form.renew_key()  # shown again: a corrected form is a new attempt
        else:
            messages.error(request, exc.message)
        return Ran(ok=False)
    return Ran(ok=True, result=result)
