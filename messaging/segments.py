"""How many SMS segments a message takes: the one function the server side uses for the record,
mirrored in the browser by ``bearsms_portal/static/portal/segments.js`` (a browser test keeps the
two in agreement on the same cases).

GSM 03.38 (7-bit) text takes 160 characters in one SMS, 153 per segment when concatenated; the
extension characters (``€ [ ] { } ^ ~ \\ |`` and form feed) are sent as an escape and count twice.
Anything outside that alphabet makes the whole message UCS-2: 70 in one SMS, 67 per segment,
counted in UTF-16 code units, so a character outside the Basic Multilingual Plane (most emoji)
counts twice. BearSMS picks nothing itself: the portal sends ``unicode=1`` for UCS-2 text.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7 = "gsm7"
UCS2 = "ucs2"

#: (characters in a single SMS, characters per segment of a long one)
LIMITS = {GSM7: (160, 153), UCS2: (70, 67)}


@dataclass(frozen=True, slots=True)
class SegmentCount:
    characters: int  # as the network counts them (septets, or UTF-16 code units)
    encoding: str  # "gsm7" or "ucs2"
    segments: int
    per_segment: int  # the limit that applies (160/153/70/67)

    @property
    def is_unicode(self) -> bool:
        return self.encoding == UCS2


def count_segments(text: str) -> SegmentCount:
    """Characters, encoding and segments of ``text`` as one SMS network sees it."""
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text):
        encoding = GSM7
        characters = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
    else:
        encoding = UCS2
        characters = len(text.encode("utf-16-le")) // 2
    single, multi = LIMITS[encoding]
    if characters <= single:
        return SegmentCount(characters, encoding, 1 if characters else 0, single)
    return SegmentCount(characters, encoding, -(-characters // multi), multi)


def with_footer(text: str, footer: str) -> str:
    """The text as the server sends it: the footer after one space (BearSMS §4.1.4)."""
    return f"{text} {footer}" if footer else text
