"""conversations.history as Slack answers it: newest first, oldest/latest/inclusive/limit/cursor, metadata on request.

Pure functions over stored messages, shared by the sandbox's Slack and the tests' fake Slack (each checks the
token and channel first and passes its own message wire shape).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

DEFAULT_LIMIT = 100  # Slack's default page size
MAX_LIMIT = 999  # Slack's documented maximum (15 for non-Marketplace apps distributed since 2025-05-29)
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{1,20}")
_TRUE = {"1", "true"}


class Stored(Protocol):
    """What the history needs from a stored message (read-only, so frozen messages qualify)."""

    @property
    def channel(self) -> str: ...

    @property
    def ts(self) -> str: ...


def is_channel_id(channel: object) -> bool:
    """conversations.history takes an ID (C…, G…, D…), never a #name as chat.postMessage does."""
    return isinstance(channel, str) and _CHANNEL_ID.fullmatch(channel) is not None


def flag(value: Any) -> bool:
    """Slack booleans arrive as `true`/`1` (slack_sdk sends "1"/"0" in a query string) or as JSON true."""
    return value is True or (isinstance(value, str) and value.strip().lower() in _TRUE)


def _ts(value: Any, default: Decimal) -> Decimal | None:
    if value is None or value == "":
        return default
    try:
        ts = Decimal(str(value))
    except InvalidOperation:
        return None
    return ts if ts.is_finite() and ts >= 0 else None


def encode_cursor(ts: str) -> str:
    """An opaque cursor (Slack's look like base64 of `next_ts:…`)."""
    return base64.b64encode(f"next_ts:{ts}".encode()).decode()


def _decode_cursor(cursor: str) -> Decimal | None:
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    prefix, _, ts = text.partition(":")
    return _ts(ts, Decimal(0)) if prefix == "next_ts" and ts else None


def history_page(
    stored: Iterable[Stored],
    params: dict[str, Any],
    now: float,
    wire: Callable[[Any, bool], dict[str, Any]],
    max_limit: int = MAX_LIMIT,
) -> dict[str, Any]:
    """The JSON body conversations.history answers for `params` over one channel's `stored` messages."""
    oldest = _ts(params.get("oldest"), Decimal(0))
    if oldest is None:
        return {"ok": False, "error": "invalid_ts_oldest"}
    latest = _ts(params.get("latest"), Decimal(str(now)) + 1)
    if latest is None:
        return {"ok": False, "error": "invalid_ts_latest"}
    try:
        limit = int(params.get("limit") or DEFAULT_LIMIT)
    except (TypeError, ValueError):
        return {"ok": False, "error": "invalid_limit"}
    limit = max(1, min(limit, max_limit))
    inclusive = flag(params.get("inclusive"))
    upto: Decimal | None = None
    cursor = params.get("cursor")
    if cursor:
        upto = _decode_cursor(str(cursor))
        if upto is None:
            return {"ok": False, "error": "invalid_cursor"}

    def inside(ts: Decimal) -> bool:
        above = ts >= oldest if inclusive else ts > oldest
        below = ts <= latest if inclusive else ts < latest
        return above and below and (upto is None or ts <= upto)

    window = sorted((m for m in stored if inside(Decimal(m.ts))), key=lambda m: Decimal(m.ts), reverse=True)
    page, rest = window[:limit], window[limit:]
    metadata = flag(params.get("include_all_metadata"))
    body: dict[str, Any] = {
        "ok": True,
        "messages": [wire(m, metadata) for m in page],
        "has_more": bool(rest),
        "pin_count": 0,
        "channel_actions_ts": None,
        "channel_actions_count": 0,
    }
    if rest:
        body["response_metadata"] = {"next_cursor": encode_cursor(rest[0].ts)}
    return body
