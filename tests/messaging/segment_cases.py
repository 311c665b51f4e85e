"""The segment counter's cases, shared by the server-side test and the browser test (the JS
mirror must give the same answers): (name, text, characters, encoding, segments)."""

EMOJI = "\U0001f600"  # outside the BMP: a surrogate pair in UTF-16

CASES = [
    ("empty", "", 0, "gsm7", 0),
    ("gsm 160", "a" * 160, 160, "gsm7", 1),
    ("gsm 161", "a" * 161, 161, "gsm7", 2),
    ("gsm 306", "b" * 306, 306, "gsm7", 2),
    ("gsm 307", "b" * 307, 307, "gsm7", 3),
    ("gsm 459", "c" * 459, 459, "gsm7", 3),
    ("gsm 460", "c" * 460, 460, "gsm7", 4),
    ("gsm accents and newlines", "Hé là\nÇa va? @£$¥ ñ ü à", 23, "gsm7", 1),
    ("extension 80 euro = 160", "€" * 80, 160, "gsm7", 1),
    ("extension 80 euro + 1 = 161", "€" * 80 + "a", 161, "gsm7", 2),
    ("extension last char crosses 160", "a" * 159 + "|", 161, "gsm7", 2),
    ("extension 153 brackets = 306", "[" * 153, 306, "gsm7", 2),
    ("extension 153 brackets + 1 = 307", "[" * 153 + "a", 307, "gsm7", 3),
    ("extension mix = 459", "{}^~\\" * 45 + "a" * 9, 459, "gsm7", 3),
    ("extension mix = 460", "{}^~\\" * 46, 460, "gsm7", 4),
    ("cyrillic 70", "д" * 70, 70, "ucs2", 1),
    ("cyrillic 71", "д" * 71, 71, "ucs2", 2),
    ("cyrillic 134", "Ж" * 134, 134, "ucs2", 2),
    ("cyrillic 135", "Ж" * 135, 135, "ucs2", 3),
    ("arabic 70", "م" * 70, 70, "ucs2", 1),
    ("arabic 71", "سلام" * 17 + "سلا", 71, "ucs2", 2),
    ("arabic 134", "ع" * 134, 134, "ucs2", 2),
    ("arabic 135", "ع" * 135, 135, "ucs2", 3),
    ("emoji 35 = 70 units", EMOJI * 35, 70, "ucs2", 1),
    ("emoji 35 + 1 = 71 units", EMOJI * 35 + "a", 71, "ucs2", 2),
    ("emoji 67 = 134 units", EMOJI * 67, 134, "ucs2", 2),
    ("emoji 67 + 1 = 135 units", EMOJI * 67 + "a", 135, "ucs2", 3),
    ("one non-gsm char makes it ucs2", "a" * 69 + "д", 70, "ucs2", 1),
    ("gsm text + euro stays gsm", "Price: 5€", 10, "gsm7", 1),
    ("latin but not gsm (ê)", "fête", 4, "ucs2", 1),
]
