"""read_iso: the one ISO 8601 reading that renderers (parse_time) and store checks (time_text_in_range) share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from notifbot.iso_time import read_iso


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-05T10:00:00Z", datetime(2024, 1, 5, 10, tzinfo=UTC)),
        (" 2024-01-05T10:00:00z ", datetime(2024, 1, 5, 10, tzinfo=UTC)),
        ("2024-01-05T10:00:00Z+0000", datetime(2024, 1, 5, 10, tzinfo=UTC)),
        ("2024-01-05T10:00:00Z-0600", datetime(2024, 1, 5, 10, tzinfo=timezone(timedelta(hours=-6)))),
        ("2024-01-05T10:00:00", datetime(2024, 1, 5, 10)),
        ("", None),
        ("yesterday", None),
        ("2024-13-01", None),
    ],
)
def test_read_iso(text: str, expected: datetime | None) -> None:
    got = read_iso(text)
    assert (got, got and got.tzinfo) == (expected, expected and expected.tzinfo)
