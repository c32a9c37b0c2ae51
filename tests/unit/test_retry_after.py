"""One Retry-After reading for every upstream: any header mapping, any case, a list's first value, seconds or date."""

from __future__ import annotations

import httpx
import pytest

from notifbot.retry_after import DEFAULT_WAIT, retry_after_seconds, retry_wait


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        (httpx.Headers({"Retry-After": "12"}), 12.0),
        ({"retry-after": "0"}, 0.0),
        ({"RETRY-AFTER": "2.5"}, 2.5),
        ({"Retry-After": ["3", "9"]}, 3.0),
        ({"Retry-After": []}, None),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "-1"}, None),
        ({"Retry-After": "nan"}, None),
        ({"Content-Type": "text/plain"}, None),
        (None, None),
        ("Retry-After: 3", None),
    ],
)
def test_retry_after_seconds(headers: object, seconds: float | None) -> None:
    assert retry_after_seconds(headers) == seconds
    assert retry_wait(headers) == (DEFAULT_WAIT if seconds is None else seconds)


NOW = 1_445_412_000.0  # Wed, 21 Oct 2015 07:20:00 GMT


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("Wed, 21 Oct 2015 07:28:00 GMT", 480.0),  # IMF-fixdate
        ("Wednesday, 21-Oct-15 07:28:00 GMT", 480.0),  # obsolete RFC 850 form
        ("Wed Oct 21 07:28:00 2015", 480.0),  # obsolete asctime form (GMT implied)
        ("Wed, 21 Oct 2015 07:19:00 GMT", 0.0),  # already past: retry now
        ("Wed, 21 Oct 2015 07:20:02.5 GMT", None),
        ("inf", None),
    ],
)
def test_retry_after_http_date(value: str, seconds: float | None) -> None:
    headers = httpx.Headers({"Retry-After": value})
    assert retry_after_seconds(headers, clock=lambda: NOW) == seconds
    assert retry_wait(headers, clock=lambda: NOW) == (DEFAULT_WAIT if seconds is None else seconds)
