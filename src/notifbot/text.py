"""Text helpers shared by renderers: mrkdwn escaping, truncation, numbers and times."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime

from notifbot.central_time import CENTRAL
from notifbot.iso_time import parse_time

ELLIPSIS = "…"
TOO_LARGE = "(a number too large to show)"
TOO_DEEP = "(a value too deeply nested to show)"
UNSHOWABLE = "(a value that cannot be shown)"
CT_OUT_OF_RANGE = "US Central time out of range"
UTC_OUT_OF_RANGE = "out of range in UTC"

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_SPACE = re.compile(r"\s+")


def escape_mrkdwn(s: str) -> str:
    """Escape exactly &, < and > so untrusted text cannot mention, link or spoof in Slack mrkdwn."""
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape_mrkdwn(s: str) -> str:
    """Reverse `escape_mrkdwn` (for terminal display)."""
    return s.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def truncate(s: str, limit: int, *, marker: str = ELLIPSIS) -> str:
    """`s` cut to at most `limit` characters, ending with `marker` when cut."""
    if limit <= 0:
        return ""
    if len(s) <= limit:
        return s
    if len(marker) >= limit:
        return s[:limit]
    return s[: limit - len(marker)] + marker


def escape_truncate(s: str, limit: int, *, marker: str = ELLIPSIS) -> str:
    """Escape `s` for mrkdwn and cut it so the escaped result fits `limit`, never splitting an entity."""
    escaped = escape_mrkdwn(s)
    if len(escaped) <= limit:
        return escaped
    budget = limit - len(marker)
    if budget <= 0:
        return truncate(marker, limit)
    out: list[str] = []
    used = 0
    for ch in s:
        piece = _ESCAPES.get(ch, ch)
        if used + len(piece) > budget:
            break
        out.append(piece)
        used += len(piece)
    return "".join(out) + marker


def one_line(s: str) -> str:
    """Collapse all whitespace (newlines included) to single spaces."""
    return _SPACE.sub(" ", s).strip()


def as_text(value: object) -> str:
    """Any field value as display text: scalars as they read, containers as compact JSON, else a placeholder."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    try:
        if isinstance(value, int | float):
            return str(value)
        try:
            return json.dumps(value, ensure_ascii=False, default=str, separators=(", ", ": "))
        except TypeError:
            return str(value)
    except RecursionError:
        return TOO_DEEP
    except ValueError:  # an int past Python's 4,300-digit conversion limit, alone or inside a container
        return TOO_LARGE
    except Exception:  # a value whose own str() fails: shown as a placeholder, never raised to the renderer
        return UNSHOWABLE


def plain_text(value: object, limit: int) -> str:
    """Single-line text for a plain_text object, at most `limit` chars; angle brackets become look-alikes."""
    text = one_line(as_text(value)).replace("<", "‹").replace(">", "›")
    return truncate(text, limit)


def to_number(value: object) -> float | None:
    """A finite number from an int, float or numeric string; None otherwise."""
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float):
            number = float(value)
        elif isinstance(value, str):
            number = float(value.strip().replace(",", ""))
        else:
            return None
    except (ValueError, OverflowError):  # not numeric, or an int beyond the float range
        return None
    return number if math.isfinite(number) else None


def format_count(n: object) -> str:
    """`n` with thousands separators (5000 → "5,000"); non-numbers come back as text."""
    if isinstance(n, int) and not isinstance(n, bool):
        try:
            return f"{n:,}"  # exact, however large Python can still print it
        except ValueError:
            return TOO_LARGE
    number = to_number(n)
    if number is None:
        return as_text(n)
    if number.is_integer() and abs(number) < 1e18:
        return f"{int(number):,}"
    return f"{round(number, 2):,}"


def format_percent(value: object) -> str:
    """A percentage like "97%" or "99.5%"; non-numbers come back as text."""
    number = to_number(value)
    if number is None:
        return as_text(value)
    return f"{format_count(round(number, 1))}%"


def humanize(value: object) -> str:
    """A snake_case code as words: "expired_credentials" → "expired credentials"."""
    return as_text(value).replace("_", " ").strip()


def clock_12h(dt: datetime) -> str:
    """The wall-clock time of `dt` as "4:40 PM" (in its own timezone)."""
    hour = dt.hour % 12 or 12
    return f"{hour}:{dt.minute:02d} {'AM' if dt.hour < 12 else 'PM'}"


def format_ct(dt: datetime) -> str:
    """A time in US Central, e.g. "Nov 29, 12:00 AM CT"; in UTC when Central time cannot hold it (year 1)."""
    try:
        local = dt.astimezone(CENTRAL)
    except OverflowError:
        return format_utc(dt)
    return f"{local:%b} {local.day}, {clock_12h(local)} CT"


def format_utc(dt: datetime) -> str:
    """A time in UTC, e.g. "Nov 28, 2026 10:00 UTC"; as ISO text when UTC cannot hold it (year 1 at +14:00)."""
    try:
        utc = dt.astimezone(UTC)
    except OverflowError:
        return f"{dt.isoformat()} ({UTC_OUT_OF_RANGE})"
    return f"{utc:%b} {utc.day}, {utc.year} {utc:%H:%M} UTC"


def format_when(value: object) -> str:
    """A time shown in UTC and US Central ("Nov 28, 2026 10:00 UTC (Nov 28, 4:00 AM CT)"), else as given.

    At the ends of the calendar only the part that cannot be shown degrades ("… UTC (US Central time out of range)").
    """
    dt = parse_time(value)
    if dt is None:
        return as_text(value)
    utc = format_utc(dt)
    try:
        dt.astimezone(CENTRAL)
    except OverflowError:
        return utc if utc.endswith(f"({UTC_OUT_OF_RANGE})") else f"{utc} ({CT_OUT_OF_RANGE})"
    return f"{utc} ({format_ct(dt)})"


def format_date(value: object) -> str:
    """A calendar date like "Dec 1, 2026" from a date-time or date string, else the text as given."""
    dt = parse_time(value)
    if dt is None:
        return as_text(value)
    return f"{dt:%b} {dt.day}, {dt.year}"
