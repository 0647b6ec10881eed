"""Durations and money in human units.

Every duration in a scenario file goes through :func:`parse_duration`; the
simulation clock counts seconds. ``1mo`` is 30 days and ``1y`` is 365 days.

>>> parse_duration("90m")
5400.0
>>> format_duration(parse_duration("2w"))
'14d'
"""

from __future__ import annotations

import math
import re

MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0
YEAR = 365 * DAY
MAX_DURATION = 10 * YEAR  # no delay, window or horizon needs more; longer ones exhaust memory

UNITS: dict[str, float] = {
    "s": 1.0,
    "m": MINUTE,
    "h": HOUR,
    "d": DAY,
    "w": 7 * DAY,
    "mo": 30 * DAY,
    "y": 365 * DAY,
}
UNIT_HELP = 's, m, h, d, w, mo (30 days), y (365 days), e.g. "30s", "15m", "2h", "3d", "1mo"'

_DURATION = re.compile(r"^(\d+(?:\.\d+)?|\.\d+)(s|m|h|d|w|mo|y)$", re.ASCII)  # ASCII digits only


def parse_duration(text: str) -> float:
    """Return the number of seconds in a duration such as ``"15m"`` or ``"1.5d"``.

    >>> parse_duration("3d")
    259200.0
    >>> parse_duration("3 days")
    Traceback (most recent call last):
    ...
    ValueError: '3 days' is not a duration; write a number and a unit: s, m, h, d, w, mo (30 days), y (365 days), e.g. "30s", "15m", "2h", "3d", "1mo"
    """  # noqa: E501
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a duration; write it as a string with a unit: {UNIT_HELP}")
    match = _DURATION.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a duration; write a number and a unit: {UNIT_HELP}")
    seconds = float(match.group(1)) * UNITS[match.group(2)]
    if not math.isfinite(seconds) or seconds > MAX_DURATION:
        raise ValueError(f"{_short(text)} is too long a duration; durations are at most 10 years (3650d)")
    return seconds


def _short(text: str) -> str:
    """The text as typed, cut to a readable length."""
    return repr(text) if len(text) <= 40 else repr(text[:37] + "...")


def format_duration(seconds: float) -> str:
    """Write seconds in the largest unit among s, m, h, d that divides them exactly.

    Weeks, months and years are written in days, so the text parses back to the
    same number of seconds.

    >>> format_duration(7200)
    '2h'
    >>> format_duration(90)
    '90s'
    >>> format_duration(0.5)
    '0.5s'
    """
    if seconds < 0 or not math.isfinite(seconds):
        raise ValueError(f"cannot format {seconds!r} as a duration")
    for unit in ("d", "h", "m"):
        size = UNITS[unit]
        count = seconds / size
        if seconds >= size and count == int(count):
            return f"{int(count)}{unit}"
    if seconds == int(seconds):
        return f"{int(seconds)}s"
    return f"{seconds!r}s"


def human_duration(seconds: float) -> str:
    """A rounded duration for reading, e.g. ``"19 days"`` or ``"3.5 hours"``.

    >>> human_duration(19.2 * DAY)
    '19 days'
    >>> human_duration(5400)
    '1.5 hours'
    """
    for size, name in ((DAY, "day"), (HOUR, "hour"), (MINUTE, "minute"), (1.0, "second")):
        if seconds >= size or size == 1.0:
            value = seconds / size
            text = f"{value:.0f}" if value >= 10 else f"{value:.1f}".rstrip("0").rstrip(".")
            return f"{text} {name}{'' if text == '1' else 's'}"
    raise AssertionError("unreachable")


def money_symbol(currency: str) -> str:
    """How money in ``currency`` is prefixed: ``€``, ``$``, ``£``, else the code and a space."""
    return {"EUR": "€", "USD": "$", "GBP": "£"}.get(currency, currency + " ")


def format_money(amount: float, currency: str = "EUR") -> str:
    """Money for reading: thousands separated, no cents above 1,000.

    >>> format_money(1234567.891)
    '€1,234,568'
    >>> format_money(-12.5, "USD")
    '-$12.50'
    """
    symbol = money_symbol(currency)
    sign = "-" if amount < 0 else ""
    value = abs(amount)
    text = f"{value:,.0f}" if value >= 1000 else f"{value:,.2f}"
    return f"{sign}{symbol}{text}"


def short_money(amount: float, currency: str = "EUR") -> str:
    """Money in a few characters, for tables: ``€239k``, ``€1.2M``.

    >>> short_money(238644), short_money(1_234_567), short_money(950.4)
    ('€239k', '€1.2M', '€950')
    """
    symbol = money_symbol(currency)
    sign = "-" if amount < 0 else ""
    value = abs(amount)
    for size, suffix in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if value >= size:
            scaled = value / size
            text = f"{scaled:.1f}" if scaled < 10 else f"{scaled:.0f}"
            return f"{sign}{symbol}{text}{suffix}"
    return f"{sign}{symbol}{value:.0f}"
