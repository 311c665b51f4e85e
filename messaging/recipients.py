"""Recipients as people type them: numbers, ``@username`` and ``#groupcode``, separated by
commas, semicolons, spaces or new lines.

Numbers are read with ``phonenumbers`` in the sending account's region (its country, else
``DEFAULT_PHONE_REGION``) and become international digits without ``+`` (what BearSMS stores);
a number that is not valid there gets its own error. Duplicates (after normalisation) are
dropped and counted. Nothing here talks to the server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import phonenumbers
from django.conf import settings

from accounts import countries

SEPARATORS = re.compile(r"[,;\s]+")
USERNAME = re.compile(r"@[A-Za-z0-9._-]{1,100}")
GROUPCODE = re.compile(r"#[A-Za-z0-9_-]{2,100}")
NUMBER_CHARS = re.compile(r"\+?[0-9().\-/]{3,30}")

NUMBER = "number"
USER = "user"
GROUP = "group"


@dataclass(frozen=True, slots=True)
class Recipient:
    position: int
    entered: str
    kind: str  # "number", "user" or "group"
    address: str  # what goes into pv's `to`


@dataclass(frozen=True, slots=True)
class BadEntry:
    position: int
    entered: str
    reason: str


@dataclass
class ParsedRecipients:
    recipients: list[Recipient] = field(default_factory=list)
    errors: list[BadEntry] = field(default_factory=list)
    duplicates: int = 0
    entries: int = 0

    @property
    def count(self) -> int:
        return len(self.recipients)


def region_for(account) -> str:
    """The region numbers typed for ``account`` are read in: its country (the server's numeric
    id, e.g. 82 → ID, see ``accounts.countries``), else ``DEFAULT_PHONE_REGION``."""
    region = countries.code_of(getattr(account, "country", None))
    if region in phonenumbers.SUPPORTED_REGIONS:
        return region
    return (settings.DEFAULT_PHONE_REGION or "").upper()


def read_number(raw: str, region: str) -> str:
    """International digits of ``raw``; ``ValueError`` with the reason when it is not valid."""
    if not NUMBER_CHARS.fullmatch(raw):
        raise ValueError("not a phone number")
    compact = re.sub(r"[().\-/]", "", raw)
    try:
        parsed = phonenumbers.parse(compact, region or None)
    except phonenumbers.NumberParseException:
        where = f" for {region}" if region else ""
        raise ValueError(f"not a phone number{where} (add the country code with +)") from None
    if not phonenumbers.is_valid_number(parsed):
        if compact.startswith("+") or not region:
            raise ValueError("not a valid phone number")
        raise ValueError(f"not a valid {region} number (add the country code with +)")
    return f"{parsed.country_code}{parsed.national_number}"


def parse_one(raw: str, region: str) -> tuple[str, str]:
    """``(kind, address)`` of one entry; ``ValueError`` with the reason when it is bad."""
    if raw.startswith("@"):
        if not USERNAME.fullmatch(raw):
            raise ValueError("not a username (@ then letters, digits, . _ -)")
        return USER, raw
    if raw.startswith("#"):
        if not GROUPCODE.fullmatch(raw):
            raise ValueError("not a group code (# then at least 2 letters, digits, _ -)")
        return GROUP, raw
    return NUMBER, read_number(raw, region)


def parse_recipients(text: str, *, region: str, own_username: str = "") -> ParsedRecipients:
    """Every entry of ``text`` read in ``region``: recipients in order, bad entries, duplicates."""
    parsed = ParsedRecipients()
    seen: set[str] = set()
    for position, raw in enumerate((p for p in SEPARATORS.split(text or "") if p), start=1):
        parsed.entries += 1
        try:
            kind, address = parse_one(raw, region)
            if kind == USER and own_username and address[1:] == own_username:
                raise ValueError("you cannot send to your own account")
        except ValueError as exc:
            parsed.errors.append(BadEntry(position, raw, str(exc)))
            continue
        key = address.lower() if kind != NUMBER else address
        if key in seen:
            parsed.duplicates += 1
            continue
        seen.add(key)
        parsed.recipients.append(Recipient(position, raw, kind, address))
    return parsed
