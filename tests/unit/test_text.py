"""Text helpers: mrkdwn escaping, truncation, numbers and times."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from notifbot.central_time import CENTRAL, next_central_midnight
from notifbot.iso_time import parse_time
from notifbot.text import (
    ELLIPSIS,
    as_text,
    clock_12h,
    escape_mrkdwn,
    escape_truncate,
    format_count,
    format_ct,
    format_date,
    format_percent,
    format_utc,
    format_when,
    humanize,
    one_line,
    plain_text,
    to_number,
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


# -- pinned behaviour: exact values at every boundary (docs/mutation.md) ----------------------------------------


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("&", "&amp;"),
        ("<", "&lt;"),
        (">", "&gt;"),
        ("a&<>b", "a&amp;&lt;&gt;b"),
        ("", ""),
        ("plain", "plain"),
    ],
)
def test_escape_and_unescape_each_character(raw: str, escaped: str) -> None:
    assert escape_mrkdwn(raw) == escaped
    assert unescape_mrkdwn(escaped) == raw


@pytest.mark.parametrize(
    ("s", "limit", "marker", "out"),
    [
        ("abcdef", 6, ELLIPSIS, "abcdef"),  # exactly at the limit: untouched
        ("abcdef", 7, ELLIPSIS, "abcdef"),
        ("abcdef", 5, ELLIPSIS, "abcd…"),  # one over: cut, marker included in the limit
        ("abcdef", 2, ELLIPSIS, "a…"),
        ("abcdef", 1, ELLIPSIS, "a"),  # no room for text and marker: plain cut
        ("a", 1, ELLIPSIS, "a"),
        ("abcdef", 0, ELLIPSIS, ""),
        ("abcdef", -3, ELLIPSIS, ""),
        ("", 0, ELLIPSIS, ""),
        ("abcdef", 4, "...", "a..."),  # marker one shorter than the limit
        ("abcdef", 3, "...", "abc"),  # marker exactly the limit: plain cut, never a bare marker
        ("abcdef", 2, "...", "ab"),
        ("abcdefgh", 6, "", "abcdef"),
    ],
)
def test_truncate_exact(s: str, limit: int, marker: str, out: str) -> None:
    assert truncate(s, limit, marker=marker) == out


@pytest.mark.parametrize(
    ("s", "limit", "marker", "out"),
    [
        ("abc", 3, ELLIPSIS, "abc"),  # fits exactly: no marker
        ("a&b", 7, ELLIPSIS, "a&amp;b"),  # the escaped form fits exactly
        ("a&b", 6, ELLIPSIS, "a…"),  # one short: the entity is dropped whole, not split
        ("abcdef", 5, ELLIPSIS, "abcd…"),  # budget filled exactly by plain characters
        ("abc", 2, ELLIPSIS, "a…"),  # budget of one character
        ("abc", 1, ELLIPSIS, "…"),  # budget 0: only the marker
        ("abc", 1, "...", "."),  # marker longer than the limit: the marker cut to the limit
        ("abc", 0, ELLIPSIS, ""),
        ("&>&>", 12, ELLIPSIS, "&amp;&gt;…"),  # &amp; + &gt; = 9, the next &amp; would pass budget 11
        ("><&", 9, ELLIPSIS, "&gt;&lt;…"),
        ("x>yz", 6, ELLIPSIS, "x&gt;…"),  # x + &gt; = 5 = budget
        ("x>yz", 5, ELLIPSIS, "x…"),
        ("<b>", 8, "..", "&lt;b.."),
    ],
)
def test_escape_truncate_exact(s: str, limit: int, marker: str, out: str) -> None:
    assert escape_truncate(s, limit, marker=marker) == out


def test_escape_truncate_never_exceeds_the_limit_nor_splits_an_entity() -> None:
    for limit in range(12):
        for s in ("&&&&&&", "a<b>c&d", "plain text"):
            out = escape_truncate(s, limit)
            assert len(out) <= limit
            assert unescape_mrkdwn(out.removesuffix(ELLIPSIS)) in s


def test_one_line() -> None:
    assert one_line("  a\n\tb  \r\n c ") == "a b c"
    assert one_line("a  b") == "a b"
    assert one_line("\n") == ""


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, ""),
        ("text", "text"),
        (True, "yes"),
        (False, "no"),
        (0, "0"),
        (2.5, "2.5"),
        ({"city": "Zürich"}, '{"city": "Zürich"}'),  # non-ASCII kept as is
        (["a", 1, None], '["a", 1, null]'),
        ({"at": datetime(2026, 1, 2, tzinfo=UTC)}, '{"at": "2026-01-02 00:00:00+00:00"}'),  # str() of the odd
        ({(1, 2): "x"}, "{(1, 2): 'x'}"),  # not JSON at all: Python's own text
    ],
)
def test_as_text(value: object, shown: str) -> None:
    assert as_text(value) == shown


def test_plain_text_exact() -> None:
    assert plain_text("<b>x</b> &amp;", 150) == "‹b›x‹/b› &amp;"
    assert plain_text(" a\n\nb ", 150) == "a b"
    assert plain_text("abcdef", 6) == "abcdef"
    assert plain_text("abcdef", 5) == "abcd…"
    assert plain_text("<<<<<", 3) == "‹‹…"
    assert plain_text(None, 10) == ""


@pytest.mark.parametrize(
    ("value", "number"),
    [
        (5, 5.0),
        (2.5, 2.5),
        (" 1,234.5 ", 1234.5),
        ("-3", -3.0),
        ("1e3", 1000.0),
        (True, None),
        (False, None),
        ("lots", None),
        ("", None),
        ("inf", None),
        (float("inf"), None),
        (float("nan"), None),
        (None, None),
        ([1], None),
    ],
)
def test_to_number(value: object, number: float | None) -> None:
    assert to_number(value) == number


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, ""),
        (-1234, "-1,234"),
        (999, "999"),
        (1000, "1,000"),
        ("1,234", "1,234"),
        (12.0, "12"),
        (1.2345, "1.23"),
        (-1234.5, "-1,234.5"),
        (9.99e17, "999,000,000,000,000,000"),  # the largest shown as an exact integer
        (1e18, "1e+18"),  # from 1e18 on, floats are not integers worth printing digit by digit
        (float("inf"), "inf"),
    ],
)
def test_format_count_exact(value: object, shown: str) -> None:
    assert format_count(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0, "0%"), (99.96, "100%"), (99.94, "99.9%"), (1234.5, "1,234.5%"), ("n/a", "n/a"), (None, "")],
)
def test_format_percent_exact(value: object, shown: str) -> None:
    assert format_percent(value) == shown


def test_humanize() -> None:
    assert humanize("expired_credentials") == "expired credentials"
    assert humanize("_private_") == "private"
    assert humanize(None) == ""
    assert humanize(42) == "42"


@pytest.mark.parametrize(
    ("hour", "minute", "shown"),
    [
        (0, 0, "12:00 AM"),
        (0, 5, "12:05 AM"),
        (1, 0, "1:00 AM"),
        (11, 59, "11:59 AM"),
        (12, 0, "12:00 PM"),  # noon is PM
        (12, 30, "12:30 PM"),
        (13, 0, "1:00 PM"),
        (16, 40, "4:40 PM"),
        (23, 59, "11:59 PM"),
    ],
)
def test_clock_12h_every_boundary(hour: int, minute: int, shown: str) -> None:
    assert clock_12h(datetime(2026, 11, 28, hour, minute, tzinfo=UTC)) == shown


def test_format_ct_and_utc_across_dst() -> None:
    assert format_ct(datetime(2026, 7, 1, 17, tzinfo=UTC)) == "Jul 1, 12:00 PM CT"  # CDT, UTC-5
    assert format_ct(datetime(2026, 12, 1, 18, 5, tzinfo=UTC)) == "Dec 1, 12:05 PM CT"  # CST, UTC-6
    assert format_utc(datetime(2026, 12, 1, 12, 5, tzinfo=CENTRAL)) == "Dec 1, 2026 18:05 UTC"


@pytest.fixture
def far_local_timezone() -> Iterator[None]:
    """The process runs in Asia/Kolkata (UTC+5:30) for one test, as a server in any zone might."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Kolkata"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.mark.usefixtures("far_local_timezone")
def test_formatting_does_not_depend_on_the_machines_timezone() -> None:
    at = datetime(2026, 12, 1, 12, 5, tzinfo=CENTRAL)
    assert format_utc(at) == "Dec 1, 2026 18:05 UTC"
    assert format_when(at) == "Dec 1, 2026 18:05 UTC (Dec 1, 12:05 PM CT)"
    assert parse_time("2026-12-01T18:05:00") == datetime(2026, 12, 1, 18, 5, tzinfo=UTC)


def test_parse_time_keeps_offsets_and_reads_naive_as_utc() -> None:
    central = datetime(2026, 12, 1, 12, tzinfo=CENTRAL)
    assert parse_time(central) is central
    naive = parse_time(datetime(2026, 12, 1, 12))
    assert naive == datetime(2026, 12, 1, 12, tzinfo=UTC) and naive is not None and naive.tzinfo is UTC
    offset = parse_time("2026-12-01T12:00:00-06:00")
    assert offset == datetime(2026, 12, 1, 18, tzinfo=UTC)
    assert offset is not None and offset.utcoffset() == timedelta(hours=-6)
    assert parse_time("2026-12-01T12:00:00Z-0600") == datetime(2026, 12, 1, 18, tzinfo=UTC)  # Marketo style
    assert parse_time(" 2026-12-01T12:00:00Z ") == datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert parse_time("2026-12-01T12:00:00z") == datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert parse_time("   ") is None and parse_time(None) is None and parse_time("2026-13-01") is None


def test_format_date_and_when_fall_back_to_the_text() -> None:
    assert format_date("2026-12-01") == "Dec 1, 2026"
    assert format_date("soon") == "soon"
    assert format_date(None) == ""
    assert format_when(None) == ""
    assert (
        format_when(datetime(2026, 11, 28, 10, tzinfo=UTC)) == "Nov 28, 2026 10:00 UTC (Nov 28, 4:00 AM CT)"
    )
