"""The segment counter (messaging.segments.count_segments) at every boundary of the issue:
160/161, 306/307, 459/460 for GSM-7 (extension characters count twice), 70/71 and 134/135 for
UCS-2 (Cyrillic, Arabic, emoji as surrogate pairs)."""

import pytest

from messaging.segments import count_segments, with_footer

from .segment_cases import CASES


@pytest.mark.parametrize(("name", "text", "characters", "encoding", "segments"), CASES)
def test_count(name, text, characters, encoding, segments):
    count = count_segments(text)
    assert (count.characters, count.encoding, count.segments) == (characters, encoding, segments)


def test_per_segment_limit_follows_the_encoding():
    assert count_segments("a" * 160).per_segment == 160
    assert count_segments("a" * 161).per_segment == 153
    assert count_segments("д" * 70).per_segment == 70
    assert count_segments("д" * 71).per_segment == 67


def test_footer_counts_after_one_space():
    assert with_footer("a" * 150, "@rita-ltd").__len__() == 160
    assert count_segments(with_footer("a" * 151, "@rita-ltd")).segments == 2
    assert with_footer("hi", "") == "hi"
