"""Reading a `Retry-After` header, one way for every upstream (Slack, Graph, Workflows, the Adobe I/O journal)."""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_WAIT = 1.0  # seconds to wait on a throttled answer that says nothing usable


def retry_after_seconds(headers: object) -> float | None:
    """The seconds `Retry-After` asks for in any header mapping (any case; a list's first value), else None.

    None also when the value is not a number or is negative.
    """
    if not isinstance(headers, Mapping):
        return None
    value = next((v for k, v in headers.items() if str(k).lower() == "retry-after"), None)
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return seconds if seconds >= 0 else None


def retry_wait(headers: object) -> float:
    """`retry_after_seconds`, or DEFAULT_WAIT when the header says nothing usable."""
    seconds = retry_after_seconds(headers)
    return DEFAULT_WAIT if seconds is None else seconds
