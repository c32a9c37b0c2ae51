"""Durations as people write them (`30s`, `5m`, `4h`, `1d`, `1h30m`): one parser for commands and config."""

from __future__ import annotations

import re
from datetime import timedelta

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_UNITS = {
    **{u: "s" for u in ("s", "sec", "secs", "second", "seconds")},
    **{u: "m" for u in ("m", "min", "mins", "minute", "minutes")},
    **{u: "h" for u in ("h", "hr", "hrs", "hour", "hours")},
    **{u: "d" for u in ("d", "day", "days")},
    **{u: "w" for u in ("w", "wk", "wks", "week", "weeks")},
}
_DURATION = re.compile(r"(?:\d{1,6}[a-z]+)+")
_DURATION_PART = re.compile(r"(\d{1,6})([a-z]+)")


def parse_duration(text: str, *, seconds: bool = True) -> timedelta | None:
    """A positive timedelta from e.g. `30s`, `90min`, `2h`, `1d`, `1w`, `1h30m`; None when it is not one.

    `seconds=False` refuses second units (a mute of seconds is a typo, not an intent).
    """
    word = text.strip().lower()
    if not _DURATION.fullmatch(word):
        return None
    total = 0
    for number, unit in _DURATION_PART.findall(word):
        canonical = _UNITS.get(unit)
        if canonical is None or (canonical == "s" and not seconds):
            return None
        total += int(number) * _UNIT_SECONDS[canonical]
    return timedelta(seconds=total) if total > 0 else None


def format_duration(value: timedelta) -> str:
    """`value` in the largest whole units, e.g. `1h30m`, `30s`, `1d` (the inverse of parse_duration)."""
    left = int(value.total_seconds())
    if left <= 0:
        return "0s"
    out = []
    for unit in ("w", "d", "h", "m", "s"):
        count, left = divmod(left, _UNIT_SECONDS[unit])
        if count:
            out.append(f"{count}{unit}")
    return "".join(out)


def duration_value(value: object) -> timedelta:
    """A config value as a timedelta: `30s`/`5m`/`4h`/`1d`, a number of seconds, or `0`; ValueError otherwise."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("a duration, e.g. 30s, 5m, 4h or 1d, not true/false")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"{value} is negative: use e.g. 30s, 5m, 4h or 1d")
        return timedelta(seconds=value)
    if isinstance(value, str):
        if value.strip() in ("0", "0s"):
            return timedelta(0)
        parsed = parse_duration(value)
        if parsed is not None:
            return parsed
    raise ValueError(f"{str(value)[:40]!r} is not a duration: use e.g. 30s, 5m, 4h, 1d or 1h30m")
