"""Phone numbers as people type them, turned into the form BearSMS stores.

BearSMS keeps numbers as typed digits (an optional leading ``+``; §4.1.3 of the reference).
People type local numbers with spaces, dashes and brackets. A number that is valid in the
portal's ``DEFAULT_PHONE_REGION`` but written without a country code becomes the international
digits (``(415) 555-0123`` → ``14155550123``); anything else — numbers already international,
short codes, test numbers — keeps its digits (and a leading ``+``) unchanged.
"""

import re

import phonenumbers
from django.conf import settings

_FORMATTING = re.compile(r"[\s().\-/]")
_SHAPE = re.compile(r"\+?\d{3,15}")


class InvalidNumber(ValueError):
    """The text is not a phone number."""


def normalize_number(raw: str, region: str | None = None) -> str:
    compact = _FORMATTING.sub("", (raw or "").strip())
    if not _SHAPE.fullmatch(compact):
        raise InvalidNumber("Enter a number: 3 to 15 digits, with an optional leading +.")
    region = (region if region is not None else settings.DEFAULT_PHONE_REGION) or ""
    if compact.startswith("+") or not region:
        return compact
    try:
        parsed = phonenumbers.parse(compact, region.upper())
    except phonenumbers.NumberParseException:
        return compact
    if phonenumbers.is_valid_number(parsed) and not compact.startswith(str(parsed.country_code)):
        return f"{parsed.country_code}{parsed.national_number}"
    return compact
