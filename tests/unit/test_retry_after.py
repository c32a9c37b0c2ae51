"""One Retry-After reading for every upstream: any header mapping, any case, a list's first value."""

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
