"""``python manage.py bearsms OP [key=value …] [--as USERNAME] [--format xml]``

Calls a BearSMS webservices op that changes nothing (:data:`bearsms.ops.READ_OPS`) with the
configured operator credentials (or, with ``--as``, those of a linked account) and prints the
parsed answer as JSON. For operators and debugging: it goes through ``Client.call``, so errors
come out as the client's typed errors, and secrets in the answer (tokens, login keys) are
masked unless ``--show-secrets`` is given.

Ops that change the server (``accountban``, ``creditadd``, ``set_token``, ``pv``, …) are
refused, with the page that does them: there the portal checks permission, updates its own
records (status, ledger, token) and writes the audit entry — a raw call here would do none of
that and leave the portal out of step with the server.

Examples::

    python manage.py bearsms cr
    python manage.py bearsms ds c=5 --as alice
    python manage.py bearsms parentget data_username=bob
    python manage.py bearsms query --format xml
    python manage.py bearsms ws_login u=alice login_key=…   (prints the URL, sends nothing)
"""

from __future__ import annotations

import json
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError

from bearsms_portal.bearsms import BearSMSError
from bearsms_portal.bearsms.ops import READ_OPS
from bearsms_portal.bearsms.redaction import redact_params

#: ops run here although not in READ_OPS: ws_login only builds a URL (no request is sent).
LOCAL_OPS = frozenset({"ws_login"})

#: write op → the accounts page (URL name) that does it properly; per account when it has an id.
ACCOUNT_PAGES = {
    "accountban": "ban",
    "accountunban": "unban",
    "accountremove": "remove",
    "accountpref": "prefs",
    "accountconf": "conf",
    "parentset": "parent_set",
    "creditadd": "credit_add",
    "creditdeduct": "credit_deduct",
    "loginkeyset": "open",
    "set_token": "token_rotate",
}
TOOL_PAGES = {"accountadd": "create", "inject": "inject", "stoplist": "stoplist"}


def where_to(op: str, values: dict[str, str], as_user: str | None) -> str:
    """Where ``op`` is done instead, in words (with the page's path when the portal has one)."""
    from django.urls import reverse

    from accounts.models import BearSMSAccount

    if op in TOOL_PAGES:
        return f"use the portal's page {reverse(f'accounts:{TOOL_PAGES[op]}')}"
    if op in ACCOUNT_PAGES:
        username = values.get("data_username") or as_user or ""
        account = BearSMSAccount.objects.filter(username=username).first() if username else None
        if account is None:
            return "use the account's page in the portal (under /accounts/)"
        return (
            f"use the portal's page {reverse(f'accounts:{ACCOUNT_PAGES[op]}', args=[account.pk])}"
        )
    if op == "pv":
        return "send through the portal (messaging.services.sending keeps the send's records)"
    return "the portal does it through its services, never as a raw call"


def _parse_params(pairs: list[str], op: str) -> dict[str, str]:
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CommandError(f"parameters are key=value, got {pair!r}")
        if key in ("h", "op", "app") or (key == "u" and op != "ws_login"):
            raise CommandError(f"{key} is set by the command (use --as for another account)")
        params[key] = value
    return params


class Command(BaseCommand):
    help = "Call a BearSMS webservices op and print the parsed answer as JSON."

    def add_arguments(self, parser):
        parser.add_argument("op", help="the op name, e.g. cr, ds, pv, accountban")
        parser.add_argument("params", nargs="*", metavar="key=value")
        parser.add_argument(
            "--as",
            dest="as_user",
            metavar="USERNAME",
            help="act as this linked account instead of the operator",
        )
        parser.add_argument(
            "--format",
            choices=["json", "xml", "serialize"],
            default="json",
            help="the wire format to ask for (output is always JSON)",
        )
        parser.add_argument(
            "--show-secrets",
            action="store_true",
            help="print tokens and login keys in the answer unmasked",
        )

    def handle(self, *args, op, params, as_user, format, show_secrets, **options):  # noqa: A002
        op = op.strip().lower()
        values = _parse_params(params, op)
        if op not in READ_OPS | LOCAL_OPS:
            raise CommandError(
                f"{op} changes the server, and this command only reads: "
                f"{where_to(op, values, as_user)} — there permission is checked, the portal's "
                "records follow and the audit log keeps it. "
                f"Ops run here: {', '.join(sorted(READ_OPS | LOCAL_OPS))}."
            )
        client = self._client(as_user)
        client.format = format
        try:
            if op == "ws_login":
                result = {
                    "url": client.ws_login_url(values.get("u", ""), values.get("login_key", ""))
                }
            else:
                result = client.call(op, **values)
        except BearSMSError as exc:
            raise CommandError(f"{type(exc).__name__}: {exc}") from None
        finally:
            client.close()
        self.stdout.write(
            json.dumps(
                result if show_secrets else redact_params(result),
                indent=2,
                ensure_ascii=False,
                default=lambda v: str(v) if isinstance(v, Decimal) else v,
            )
        )

    @staticmethod
    def _client(as_user: str | None):
        from accounts import clients

        if not as_user:
            return clients.admin_client()
        factory = getattr(clients, "client_for_username", None)
        if factory is None:
            raise CommandError(f"--as {as_user}: the account must be linked first")
        try:
            return factory(as_user)
        except Exception as exc:  # DoesNotExist, AccountNotLinked: say it plainly
            raise CommandError(
                f"--as {as_user}: no linked BearSMS account ({type(exc).__name__}: {exc})"
            ) from None
