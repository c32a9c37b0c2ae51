"""Texts: numbers, dates, durations and time zones per locale; `en` without a zone is today's English exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifbot.central_time import next_central_midnight
from notifbot.i18n import EN, texts_for
from notifbot.i18n.texts import PLACEHOLDERS, language
from notifbot.text import (
    CT_OUT_OF_RANGE,
    TOO_DEEP,
    TOO_LARGE,
    UNSHOWABLE,
    UTC_OUT_OF_RANGE,
    format_count,
    format_date,
    format_percent,
    format_when,
)

SV = texts_for("sv", "Europe/Stockholm")
NBSP = "\u00a0"
AT = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def test_placeholders_are_the_ones_text_shows() -> None:
    assert PLACEHOLDERS == (TOO_LARGE, TOO_DEEP, UNSHOWABLE, CT_OUT_OF_RANGE, UTC_OUT_OF_RANGE)


def test_numbers_in_swedish_and_english() -> None:
    assert SV.count(48123) == f"48{NBSP}123"
    assert EN.count(48123) == "48,123"
    assert SV.count("40,000") == f"40{NBSP}000"
    assert SV.count(1234.567) == f"1{NBSP}234,57"
    assert SV.count(10**5000) == "(ett tal som är för stort att visa)"
    assert SV.count("n/a") == "n/a"
    assert SV.percent(97.5) == f"97,5{NBSP}%"
    assert SV.percent(100) == f"100{NBSP}%"
    assert EN.percent(97.5) == "97.5%"
    assert SV.value(True) == "ja" and EN.value(False) == "no"


@given(
    st.one_of(st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8), st.none())
)
def test_english_numbers_are_todays(value: object) -> None:
    assert EN.count(value) == format_count(value)
    assert EN.percent(value) == format_percent(value)


@given(st.datetimes(timezones=st.just(UTC)) | st.text(max_size=12))
def test_english_times_without_a_zone_are_todays(value: object) -> None:
    assert EN.when(value) == format_when(value)
    assert EN.date(value) == format_date(value)


@given(st.datetimes(timezones=st.just(UTC)))
def test_every_locale_and_zone_shows_any_time(value: datetime) -> None:
    for t in (SV, texts_for("sv"), texts_for("en", "Pacific/Kiritimati"), texts_for("sv", "America/Chicago")):
        assert t.when(value)
        assert t.date(value)


def test_times_in_a_zone_show_us_central_beside() -> None:
    assert SV.when(AT) == "28 nov. 2026 11:00 CET (04:00 CT)"
    assert texts_for("sv").when(AT) == "28 nov. 2026 10:00 UTC (28 nov. 04:00 CT)"
    assert texts_for("sv", "America/Chicago").when(AT) == "28 nov. 2026 04:00 CT"
    assert texts_for("en", "Europe/Stockholm").when(AT) == "Nov 28, 2026 11:00 Stockholm (4:00 AM CT)"
    summer = datetime(2026, 7, 1, 3, 0, tzinfo=UTC)
    assert SV.when(summer) == "1 juli 2026 05:00 CEST (30 juni 22:00 CT)"
    assert SV.date(AT) == "28 nov. 2026"


def test_durations_and_relative_times() -> None:
    assert SV.span(timedelta(hours=7, minutes=20)) == "7 h 20 min"
    assert SV.span(timedelta(days=3, hours=4)) == "3 d 4 h"
    assert SV.span(timedelta(seconds=30)) == "mindre än en minut"
    assert EN.span(timedelta(hours=7, minutes=20)) == "7 h 20 min"
    assert SV.ago(AT - timedelta(minutes=5), AT) == "för 5 min sedan"
    assert SV.ago(AT, AT) == "nyss"
    assert EN.ago(AT - timedelta(hours=2), AT) == "2 h ago"
    assert SV.join(["a", "b", "c"]) == "a, b och c"
    assert EN.join(["a", "b", "c"]) == "a, b and c"


# (day the check runs at 12:00 UTC, Stockholm clock of the next quota reset, UTC hour of that reset)
DST_2026 = [
    ((3, 7), "8 mars 07:00", 6),  # CST / CET
    ((3, 8), "9 mars 06:00", 5),  # the US is on summer time from 02:00 on the 8th, Europe not yet
    ((3, 9), "10 mars 06:00", 5),
    ((3, 27), "28 mars 06:00", 5),
    ((3, 28), "29 mars 07:00", 5),  # Europe changes at 01:00 UTC on the 29th, before the 05:00 UTC reset
    ((3, 29), "30 mars 07:00", 5),
    ((10, 24), "25 okt. 06:00", 5),  # Europe back on winter time from 01:00 UTC on the 25th
    ((10, 25), "26 okt. 06:00", 5),
    ((10, 26), "27 okt. 06:00", 5),
    ((10, 31), "1 nov. 06:00", 5),  # the reset at 00:00 CDT on 1 November, before the US change at 02:00
    ((11, 1), "2 nov. 07:00", 6),
    ((11, 2), "3 nov. 07:00", 6),
]


@pytest.mark.parametrize(("day", "stockholm", "utc_hour"), DST_2026)
def test_quota_reset_in_stockholm_with_ct_across_both_dst_changes(
    day: tuple[int, int], stockholm: str, utc_hour: int
) -> None:
    now = datetime(2026, *day, 12, 0, tzinfo=UTC)
    reset = next_central_midnight(now)
    assert reset.astimezone(UTC).hour == utc_hour
    assert SV.reset(reset) == f"{stockholm} (00:00 CT)"
    assert SV.reset(reset, reset - timedelta(hours=1)) == f"{stockholm.split()[-1]} (00:00 CT)"


def test_quota_reset_without_a_zone_is_us_central() -> None:
    now = datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
    reset = next_central_midnight(now)
    assert EN.reset(reset, now) == "Mar 9, 12:00 AM CT"
    assert texts_for("en", "America/Chicago").reset(reset) == "Mar 9, 12:00 AM CT"
    assert texts_for("sv").reset(reset, now) == "9 mars 00:00 CT"


def test_locale_tags_and_unknown_names_fall_back() -> None:
    assert language("sv-SE") == "sv" and language("sv_FI") == "sv"
    assert language("fr-FR") == "en" and language(None) == "en"
    assert texts_for("de", "Nowhere/Town").zone is None
    assert texts_for("sv-SE") is texts_for("sv-SE")
