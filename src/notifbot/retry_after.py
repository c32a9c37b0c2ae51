"""Reading a `Retry-After` header, one way for every upstream (Slack, Graph, Workflows, the Adobe I/O journal).

RFC 9110 §10.2.3: the value is either delay-seconds or an HTTP-date; a date becomes the seconds from now until it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from datetime import UTC
from email.utils import parsedate_to_datetime

DEFAULT_WAIT = 1.0  # seconds to wait on a throttled answer that says nothing usable


def _date_seconds(value: str, now: float) -> float | None:
    """Seconds from `now` until an HTTP-date (0 when it has passed), or None when `value` is not one."""
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # asctime() form or "-0000": an HTTP-date is always in GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def retry_after_seconds(headers: object, *, clock: Callable[[], float] = time.time) -> float | None:
    """The seconds `Retry-After` asks for in any header mapping (any case; a list's first value), else None.

    The value may be seconds or an HTTP-date (a date in the past asks for 0 s). None also when the value is
    neither, or negative.
    """
    if not isinstance(headers, Mapping):
        return None
    value = next((v for k, v in headers.items() if str(k).lower() == "retry-after"), None)
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    if value is None:
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return _date_seconds(value, clock()) if isinstance(value, str) else None
    return seconds if seconds >= 0 and math.isfinite(seconds) else None


def retry_wait(headers: object, *, clock: Callable[[], float] = time.time) -> float:
    """`retry_after_seconds`, or DEFAULT_WAIT when the header says nothing usable."""
    seconds = retry_after_seconds(headers, clock=clock)
    return DEFAULT_WAIT if seconds is None else seconds
