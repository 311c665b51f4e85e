"""Country names for BearSMS's numeric country ids.

``accountpref``'s ``country`` is the id of a row in playSMS 1.4.8's own country table (1 to
205). The portal keeps only the fact needed to interoperate, each id's ISO 3166-1 alpha-2 code;
names come from ``pycountry`` (the ISO 3166 data, kept up to date), its common name where ISO has
one ("Bolivia", "Iran", "South Korea"). Every code in the table is one pycountry knows, so no id
is left out. A stored id outside the table is shown as "Unknown country (id N)" and never
changed behind the user's back.
"""

from __future__ import annotations

import unicodedata
from functools import cache

import pycountry

#: BearSMS (playSMS 1.4.8) country id → ISO 3166-1 alpha-2 code.
# fmt: off
SERVER_CODES: dict[int, str] = {
    1: "AF", 2: "AL", 3: "DZ", 4: "AD", 5: "AO", 6: "AQ", 7: "AR", 8: "AM", 9: "AW", 10: "AU",
    11: "AT", 12: "AZ", 13: "BH", 14: "BD", 15: "BY", 16: "BE", 17: "BZ", 18: "BJ", 19: "BT",
    20: "BO", 21: "BA", 22: "BW", 23: "BR", 24: "BN", 25: "BG", 26: "BF", 27: "MM", 28: "BI",
    29: "KH", 30: "CM", 31: "CA", 32: "CV", 33: "CF", 34: "TD", 35: "CL", 36: "CN", 37: "CX",
    38: "CC", 39: "CO", 40: "KM", 41: "CG", 42: "CD", 43: "CK", 44: "CR", 45: "HR", 46: "CU",
    47: "CY", 48: "CZ", 49: "DK", 50: "DJ", 51: "TL", 52: "EC", 53: "EG", 54: "SV", 55: "GQ",
    56: "ER", 57: "EE", 58: "ET", 59: "FK", 60: "FO", 61: "FJ", 62: "FI", 63: "FR", 64: "PF",
    65: "GA", 66: "GM", 67: "GE", 68: "DE", 69: "GH", 70: "GI", 71: "GR", 72: "GL", 73: "GT",
    74: "GN", 75: "GW", 76: "GY", 77: "HT", 78: "HN", 79: "HK", 80: "HU", 81: "IN", 82: "ID",
    83: "IR", 84: "IQ", 85: "IE", 86: "IM", 87: "IL", 88: "IT", 89: "CI", 90: "JP", 91: "JO",
    92: "KZ", 93: "KE", 94: "KI", 95: "KW", 96: "KG", 97: "LA", 98: "LV", 99: "LB", 100: "LS",
    101: "LR", 102: "LY", 103: "LI", 104: "LT", 105: "LU", 106: "MO", 107: "MK", 108: "MG",
    109: "MW", 110: "MY", 111: "MV", 112: "ML", 113: "MT", 114: "MH", 115: "MR", 116: "MU",
    117: "YT", 118: "MX", 119: "FM", 120: "MD", 121: "MC", 122: "MN", 123: "ME", 124: "MA",
    125: "MZ", 126: "NA", 127: "NR", 128: "NP", 129: "NL", 130: "NC", 131: "NZ", 132: "NI",
    133: "NE", 134: "NG", 135: "NU", 136: "KP", 137: "NO", 138: "OM", 139: "PK", 140: "PW",
    141: "PA", 142: "PG", 143: "PY", 144: "PE", 145: "PH", 146: "PN", 147: "PL", 148: "PT",
    149: "PR", 150: "QA", 151: "RO", 152: "RU", 153: "RW", 154: "BL", 155: "WS", 156: "SM",
    157: "ST", 158: "SA", 159: "SN", 160: "RS", 161: "SC", 162: "SL", 163: "SG", 164: "SK",
    165: "SI", 166: "SB", 167: "SO", 168: "ZA", 169: "KR", 170: "ES", 171: "LK", 172: "SH",
    173: "PM", 174: "SD", 175: "SR", 176: "SZ", 177: "SE", 178: "CH", 179: "SY", 180: "TW",
    181: "TJ", 182: "TZ", 183: "TH", 184: "TG", 185: "TK", 186: "TO", 187: "TN", 188: "TR",
    189: "TM", 190: "TV", 191: "AE", 192: "UG", 193: "GB", 194: "UA", 195: "UY", 196: "US",
    197: "UZ", 198: "VU", 199: "VA", 200: "VE", 201: "VN", 202: "WF", 203: "YE", 204: "ZM",
    205: "ZW",
}
# fmt: on


def code_of(country_id) -> str | None:
    """The ISO alpha-2 code of a server country id, ``None`` for an id outside the table."""
    try:
        return SERVER_CODES.get(int(country_id))
    except (TypeError, ValueError):
        return None


def is_known(country_id) -> bool:
    return code_of(country_id) is not None


def name_of(country_id) -> str:
    """The country's name for a stored id; "" when none is set (``None`` or 0)."""
    if not country_id:
        return ""
    code = code_of(country_id)
    if code is None:
        return f"Unknown country (id {country_id})"
    return _names()[code]


def choices() -> list[tuple[int, str]]:
    """``(id, name)`` for every server country, sorted by name (accents ignored)."""
    return list(_choices())


def select_choices(current) -> list[tuple]:
    """The choices of a country select whose stored value is ``current``: the countries by
    name, after "Not set" when none is set (the server cannot clear it, so only then), or after
    the stored id when it is outside the table (kept as it is, never silently changed)."""
    if not current:
        return [("", "Not set"), *choices()]
    if not is_known(current):
        return [(current, name_of(current)), *choices()]
    return choices()


@cache
def _names() -> dict[str, str]:
    names = {}
    for code in SERVER_CODES.values():
        entry = pycountry.countries.get(alpha_2=code)
        names[code] = getattr(entry, "common_name", None) or entry.name
    return names


@cache
def _choices() -> tuple[tuple[int, str], ...]:
    names = _names()
    rows = [(country_id, names[code]) for country_id, code in SERVER_CODES.items()]
    return tuple(sorted(rows, key=lambda row: _sort_key(row[1])))


def _sort_key(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in folded if not unicodedata.combining(ch)).casefold()
