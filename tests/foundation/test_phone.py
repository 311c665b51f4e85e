"""Phone numbers typed by people become what BearSMS stores."""

import pytest

from bearsms_portal.phone import InvalidNumber, normalize_number


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("(415) 555-0123", "US", "14155550123"),  # local, valid in the region
        ("0812 3456 7890", "ID", "6281234567890"),
        ("+62 811-2233 (44)", "US", "+62811223344"),  # international stays as typed
        ("6281234567890", "ID", "6281234567890"),  # already has the country code
        ("1234", "US", "1234"),  # short code
        ("15550123", "US", "15550123"),  # not valid in the region: digits kept
        ("0811223344", "", "0811223344"),  # no region: digits kept
    ],
)
def test_numbers_are_normalised(raw, region, expected):
    assert normalize_number(raw, region) == expected


@pytest.mark.parametrize("raw", ["", "call me", "12", "+" + "1" * 16, "12a45"])
def test_garbage_is_refused_with_a_clear_message(raw):
    with pytest.raises(InvalidNumber, match="Enter a number"):
        normalize_number(raw, "US")


def test_region_comes_from_settings(settings):
    settings.DEFAULT_PHONE_REGION = "GB"
    assert normalize_number("020 7946 0958") == "442079460958"
