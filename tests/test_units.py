"""The one duration parser."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.units import DAY, MAX_DURATION, UNITS, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("15m", 900),
        ("2h", 7200),
        ("3d", 3 * DAY),
        ("2w", 14 * DAY),
        ("1mo", 30 * DAY),
        ("1y", 365 * DAY),
        ("1.5h", 5400),
        ("0s", 0),
        (".5d", 43200),
        (" 7d ", 7 * DAY),
    ],
)
def test_parses_every_unit(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["3 days", "3", "d", "-1d", "1e3s", "", "3dd", "1 mo", "3D", "1.d", "inf", "nand"])
def test_refuses_malformed(text):
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


@given(st.integers(min_value=0, max_value=10**6), st.sampled_from(sorted(UNITS)))
def test_number_times_unit(count, unit):
    if count * UNITS[unit] > MAX_DURATION:
        with pytest.raises(ValueError, match="at most 10 years"):
            parse_duration(f"{count}{unit}")
    else:
        assert parse_duration(f"{count}{unit}") == count * UNITS[unit]


@given(st.integers(min_value=0, max_value=int(MAX_DURATION)))
def test_format_round_trips_whole_seconds(seconds):
    assert parse_duration(format_duration(seconds)) == seconds


def test_durations_stop_at_ten_years():
    assert parse_duration("3650d") == MAX_DURATION
    for text in ("3651d", "11y", "9" * 400 + "d"):
        with pytest.raises(ValueError, match="too long a duration"):
            parse_duration(text)


@given(st.floats(min_value=0, max_value=1e7, allow_nan=False).map(lambda x: round(x, 3)))
def test_format_round_trips_fractions(seconds):
    assert parse_duration(format_duration(seconds)) == pytest.approx(seconds, rel=1e-12, abs=1e-9)


def test_property_tests_are_derandomized_unless_asked():
    """CI must be deterministic: the conftest's default hypothesis profile derandomizes."""
    import os

    from hypothesis import settings

    assert settings.default.derandomize == (os.environ.get("HYPOTHESIS_PROFILE", "ci") == "ci")


def test_durations_take_ascii_digits_only():
    import pytest

    for text in ("٣d", "３h", "1٠m"):  # Arabic-Indic and full-width digits
        with pytest.raises(ValueError):
            parse_duration(text)
