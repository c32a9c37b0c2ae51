"""Durations as people write them: parse and format are inverses; seconds only where asked for."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifbot.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("5m", 300),
        ("4h", 14_400),
        ("1d", 86_400),
        ("1w", 604_800),
        ("1h30m", 5_400),
        (" 90MIN ", 5_400),
    ],
)
def test_parses(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "0s", "5", "m5", "5 m", "5x", "-5m", "1.5h", "1234567h"])
def test_refuses(text: str) -> None:
    assert parse_duration(text) is None


def test_seconds_can_be_refused() -> None:
    assert parse_duration("30s", seconds=False) is None
    assert parse_duration("1m30s", seconds=False) is None
    assert parse_duration("2h", seconds=False) == timedelta(hours=2)


@given(st.integers(min_value=1, max_value=10**7))
def test_format_is_the_inverse(seconds: int) -> None:
    assert parse_duration(format_duration(timedelta(seconds=seconds))) == timedelta(seconds=seconds)
