"""What every stored value must satisfy so that storing, reading back and rendering it cannot fail; pure functions.

The store converts times to UTC and renderers to other zones, SQLite and UTF-8 refuse lone surrogates, and JSON
has no infinities: an input that breaks one of these must be refused (or, for payloads kept as evidence, made
safe) before it reaches the shared commit, where it would fail every other request committed with it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic_core import from_json

from notifbot.errors import Detail, loc_path
from notifbot.iso_time import read_iso

# One day inside datetime's range, so any zone conversion (offsets are under 24 h) stays representable.
EARLIEST = datetime.min.replace(tzinfo=UTC) + timedelta(days=1)
LATEST = datetime.max.replace(tzinfo=UTC) - timedelta(days=1)
DATE_RANGE_MSG = "date out of range: use a time between 0001-01-02 and 9999-12-30 (UTC)"
# Nesting of objects and arrays: above what the JSON parser allows (about 200 levels per body), so it bounds
# only what other sources build (the journal's JSON, pollers), well below Python's recursion limit.
MAX_DEPTH = 256
INT_LIMIT = 2**63  # what SQLite and most JSON consumers hold exactly
SAFE_TEXT = 10_000  # longest string kept in a sanitised payload
_SURROGATE = re.compile("[\ud800-\udfff]")
# Fields renderers read as times even when they arrive as text (trigger_cleanup's deactivate_on may be either).
TIME_FIELDS = ("deactivate_on", "resets_at", "period_start", "period_end")
_TRUNCATED = "…"


def in_range(value: datetime) -> bool:
    """True when `value` (naive = UTC) converts to UTC and to any zone without overflowing."""
    if 1 < value.year < 9999:  # no offset (always under 24 h) can move it out of range
        return True
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    try:
        utc = aware.astimezone(UTC)
    except (OverflowError, ValueError):
        return False
    return EARLIEST <= utc <= LATEST


def time_text_in_range(text: str) -> bool:
    """False only for an ISO 8601 time (read as renderers read it) that `in_range` refuses; other text passes."""
    parsed = read_iso(text)
    return parsed is None or in_range(parsed)


def has_surrogate(text: str) -> bool:
    """True when `text` holds a lone UTF-16 surrogate (JSON `\\ud800`), which UTF-8 and SQLite refuse."""
    return not text.isascii() and _SURROGATE.search(text) is not None


def _problem(item: Any, depth: int) -> str | None:
    """Why one value (not its children) cannot be stored safely, if it cannot."""
    if isinstance(item, str):
        return "text holds a lone UTF-16 surrogate (invalid Unicode)" if has_surrogate(item) else None
    if isinstance(item, bool) or item is None:
        return None
    if isinstance(item, int):
        ok = -INT_LIMIT <= item < INT_LIMIT
        return None if ok else "integer out of range: use a 64-bit integer or a string"
    if isinstance(item, float):
        return None if math.isfinite(item) else "number out of range: not a finite number"
    if isinstance(item, datetime):
        return None if in_range(item) else DATE_RANGE_MSG
    if isinstance(item, dict | list):
        return f"nested more than {MAX_DEPTH} levels deep" if depth >= MAX_DEPTH else None
    return f"not a JSON value ({type(item).__name__})"


def time_text_problems(fields: Mapping[str, Any], loc: str) -> list[Detail]:
    """The TIME_FIELDS given as text that read as a time out of range."""
    return [
        Detail(loc_path([name], loc), DATE_RANGE_MSG)
        for name in TIME_FIELDS
        if isinstance(value := fields.get(name), str) and not time_text_in_range(value)
    ]


def _clean(item: Any, depth: int) -> bool:
    """The fast check behind `problems` (ingest's hot path): True when nothing under `item` is a problem.

    Scalars are checked inline and only containers recurse: most events are a few flat strings and numbers.
    """
    if depth >= MAX_DEPTH:
        return False
    values = item.values() if type(item) is dict else item
    if type(item) is dict:
        for k in item:
            if type(k) is not str or (not k.isascii() and _SURROGATE.search(k) is not None):
                return False
    for v in values:
        kind = type(v)
        if kind is str:
            if not v.isascii() and _SURROGATE.search(v) is not None:
                return False
        elif kind is int:
            if not -INT_LIMIT <= v < INT_LIMIT:
                return False
        elif kind is dict or kind is list:
            if not _clean(v, depth + 1):
                return False
        elif kind is float:
            if v - v != 0.0:  # inf - inf and nan - nan are nan
                return False
        elif v is not None and kind is not bool and not (kind is datetime and in_range(v)):
            return False  # anything else: let `problems` say what it is
    return True


def problems(value: Any, loc: str = "") -> list[Detail]:
    """Every value under `value` that cannot be stored and rendered safely, located like `fields.x[2]`."""
    if type(value) in (dict, list) and _clean(value, 0):
        return []
    out: list[Detail] = []
    stack: list[tuple[Any, tuple[int | str, ...], int]] = [(value, (), 0)]
    while stack:
        item, path, depth = stack.pop()
        why = _problem(item, depth)
        if why is not None:
            out.append(Detail(loc_path(path, loc) or "body", why))
        elif isinstance(item, dict):
            for k, v in item.items():
                if isinstance(k, str) and has_surrogate(k):
                    out.append(Detail(loc_path((*path, k), loc), "name holds a lone UTF-16 surrogate"))
                stack.append((v, (*path, str(k)), depth + 1))
        elif isinstance(item, list):
            stack.extend((v, (*path, i), depth + 1) for i, v in enumerate(item))
    out.sort(key=lambda d: d.loc)
    return out


def safe_text(text: str, limit: int = SAFE_TEXT) -> str:
    """`text` with lone surrogates replaced by U+FFFD and cut to `limit` characters (marked with …)."""
    if has_surrogate(text):
        text = _SURROGATE.sub("\ufffd", text)
    return text if len(text) <= limit else text[: limit - 1] + _TRUNCATED


def safe_json(value: Any, *, depth: int = MAX_DEPTH - 4, text_limit: int = SAFE_TEXT) -> Any:
    """A copy of a JSON-like value that `problems` finds nothing wrong with: kept as evidence, never refused.

    Lone surrogates become U+FFFD, long strings are cut, out-of-range numbers and other types become their text,
    and anything nested deeper than `depth` becomes the string "…".
    """
    if isinstance(value, str):
        return safe_text(value, text_limit)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if -INT_LIMIT <= value < INT_LIMIT else safe_text(_int_text(value), 100)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict | list):
        if depth <= 0:
            return _TRUNCATED
        if isinstance(value, dict):
            return {
                safe_text(str(k), 200): safe_json(v, depth=depth - 1, text_limit=text_limit)
                for k, v in value.items()
            }
        return [safe_json(v, depth=depth - 1, text_limit=text_limit) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return safe_text(str(value), 200)


def lenient_json(text: str | bytes, *, text_limit: int = SAFE_TEXT) -> Any:
    """JSON from a sender we must not refuse: strict first, else the standard library (which takes lone
    surrogates) with its result made safe by `safe_json`; ValueError when it is not JSON or nested too deep."""
    try:
        return from_json(text, allow_inf_nan=False)
    except ValueError as strict:
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            raise ValueError(str(strict)) from None
        return safe_json(value, text_limit=text_limit)


def _int_text(value: int) -> str:
    try:
        return str(value)
    except ValueError:  # more digits than int→str allows (4,300 by default)
        return f"an integer of about {value.bit_length() * 0.30103:.0f} digits"
