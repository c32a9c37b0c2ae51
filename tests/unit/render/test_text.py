"""Text helpers: mrkdwn escaping, truncation, numbers and times."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from notifbot.central_time import next_central_midnight
from notifbot.render.text import (
    as_text,
    escape_mrkdwn,
    escape_truncate,
    format_count,
    format_ct,
    format_date,
    format_percent,
    format_when,
    parse_time,
    plain_text,
    truncate,
    unescape_mrkdwn,
)


def test_escape_replaces_exactly_three_characters() -> None:
    assert escape_mrkdwn("<!channel> & <@U123> <https://evil|click>") == (
        "&lt;!channel&gt; &amp; &lt;@U123&gt; &lt;https://evil|click&gt;"
    )
    assert escape_mrkdwn("*bold* _it_ \"q\" 'a'") == "*bold* _it_ \"q\" 'a'"
    assert escape_mrkdwn("&amp;") == "&amp;amp;"
    assert unescape_mrkdwn(escape_mrkdwn("a<&>b &lt;")) == "a<&>b &lt;"


@pytest.mark.parametrize("limit", [0, 1, 2, 5, 10, 11, 100])
def test_truncate_never_exceeds_limit(limit: int) -> None:
    s = "x" * 10
    out = truncate(s, limit)
    assert len(out) <= limit
    if limit >= 10:
        assert out == s
    elif limit > 1:
        assert out.endswith("…")


def test_truncate_custom_marker() -> None:
    assert truncate("abcdefgh", 6, marker="...") == "abc..."


def test_escape_truncate_fits_and_never_splits_an_entity() -> None:
    s = "<" * 1000
    out = escape_truncate(s, 100)
    assert len(out) <= 100 and out.endswith("…")
    assert out[:-1].replace("&lt;", "") == ""
    assert escape_truncate("a&b", 100) == "a&amp;b"


def test_plain_text_is_one_line_bounded_and_defanged() -> None:
    out = plain_text("a\nb  <!channel>" + "x" * 500, 150)
    assert len(out) == 150 and "\n" not in out and "<" not in out


@pytest.mark.parametrize(
    ("value", "shown"),
    [(5000, "5,000"), (1234567, "1,234,567"), (0, "0"), (12.5, "12.5"), ("5000", "5,000"), ("lots", "lots")],
)
def test_format_count(value: object, shown: str) -> None:
    assert format_count(value) == shown


def test_format_percent_and_as_text() -> None:
    assert (
        format_percent(100) == "100%"
        and format_percent(97.24) == "97.2%"
        and format_percent("99.5") == "99.5%"
    )
    assert as_text(None) == "" and as_text(True) == "yes" and as_text(4821) == "4821"
    assert as_text({"a": [1, 2]}) == '{"a": [1, 2]}'


def test_times_in_utc_and_central() -> None:
    reset = parse_time("2026-11-29T06:00:00Z")
    assert reset is not None and format_ct(reset) == "Nov 29, 12:00 AM CT"
    assert format_when("2026-11-28T10:00:00Z") == "Nov 28, 2026 10:00 UTC (Nov 28, 4:00 AM CT)"
    assert format_when("not a time") == "not a time"
    assert format_date("2026-12-01T09:00:00Z") == "Dec 1, 2026"
    # Marketo's own style, and naive values read as UTC
    assert parse_time("2016-09-10T23:16:19Z+0000") == datetime(2016, 9, 10, 23, 16, 19, tzinfo=UTC)
    assert parse_time("2026-11-28T10:00:00") == datetime(2026, 11, 28, 10, tzinfo=UTC)
    assert parse_time(123) is None and parse_time("") is None


def test_next_central_midnight_handles_dst() -> None:
    winter = next_central_midnight(datetime(2026, 11, 28, 19, 45, tzinfo=UTC))
    assert winter.astimezone(UTC) == datetime(2026, 11, 29, 6, tzinfo=UTC)
    summer = next_central_midnight(datetime(2026, 7, 1, 12, tzinfo=UTC))
    assert summer.astimezone(UTC) == datetime(2026, 7, 2, 5, tzinfo=UTC)
