"""Slack Web API wire shapes for the sandbox: request parameters, the message object and conversations.history."""

from __future__ import annotations

import base64
import json
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse

from notifbot.sandbox.chat import BOT_USER, Message

TEAM = {"url": "https://notifbot-sandbox.slack.com/", "team": "Notifbot Sandbox", "team_id": "T0SANDBOX"}
BOT = {"user": "notifbot", "user_id": BOT_USER, "bot_id": "B0SANDBOXBOT"}
DEFAULT_LIMIT = 100
MAX_LIMIT = 999
_TRUE = {"1", "true"}


def ok(**fields: Any) -> JSONResponse:
    """Slack's success envelope."""
    return JSONResponse({"ok": True, **fields})


def err(code: str, status: int = 200, **fields: Any) -> JSONResponse:
    """Slack's error envelope: HTTP 200 with `ok: false` unless Slack uses another status."""
    return JSONResponse({"ok": False, "error": code, **fields}, status_code=status)


def flag(value: Any) -> bool:
    """Slack booleans arrive as `true`/`1` in forms and query strings, or as JSON true."""
    return value is True or (isinstance(value, str) and value.strip().lower() in _TRUE)


def json_field(value: Any) -> Any:
    """Form fields carry JSON as strings; JSON bodies may carry either. Raises ValueError for bad JSON."""
    return json.loads(value) if isinstance(value, str) else value


async def read_params(request: Request) -> tuple[dict[str, Any], str | None] | str:
    """Query + body parameters (JSON or form) and the token (Bearer header, else a form/query `token`).

    Returns Slack's error code instead when the body cannot be read.
    """
    params: dict[str, Any] = dict(request.query_params)
    body = await request.body()
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if body and ctype == "application/json":
        try:
            data = json.loads(body)
        except ValueError:
            return "invalid_json"
        if not isinstance(data, dict):
            return "invalid_json"
        data.pop("token", None)  # Slack ignores a token in a JSON body
        params.update(data)
    elif body and ctype in ("application/x-www-form-urlencoded", ""):
        params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    elif body:
        return "invalid_form_data"
    auth = request.headers.get("authorization", "")
    form_token = params.pop("token", None)
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else form_token
    return params, token if isinstance(token, str) and token else None


def wire(m: Message, metadata: bool = True) -> dict[str, Any]:
    """A message as the Web API shows it; history shows `metadata` only with include_all_metadata."""
    out: dict[str, Any] = {"type": "message", "text": m.text, "user": m.user, "ts": m.ts}
    if m.user == BOT["user_id"]:
        out["bot_id"] = BOT["bot_id"]
    if m.blocks is not None:
        out["blocks"] = m.blocks
    if m.metadata is not None and metadata:
        out["metadata"] = m.metadata
    if m.thread_ts is not None:
        out["thread_ts"] = m.thread_ts
    if m.edits:
        out["edited"] = {"user": m.user, "ts": m.ts}
    return out


def _ts(value: Any, default: Decimal) -> Decimal | None:
    if value is None or value == "":
        return default
    try:
        ts = Decimal(str(value))
    except InvalidOperation:
        return None
    return ts if ts.is_finite() and ts >= 0 else None


def _cursor_ts(cursor: str) -> Decimal | None:
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    prefix, _, ts = text.partition(":")
    return _ts(ts, Decimal(0)) if prefix == "next_ts" and ts else None


def history_page(stored: list[Message], params: dict[str, Any], now: float) -> dict[str, Any]:
    """The JSON body of conversations.history over one channel's top-level messages: newest first, paged."""
    oldest = _ts(params.get("oldest"), Decimal(0))
    if oldest is None:
        return {"ok": False, "error": "invalid_ts_oldest"}
    latest = _ts(params.get("latest"), Decimal(str(now)) + 1)
    if latest is None:
        return {"ok": False, "error": "invalid_ts_latest"}
    try:
        limit = max(1, min(int(params.get("limit") or DEFAULT_LIMIT), MAX_LIMIT))
    except (TypeError, ValueError):
        return {"ok": False, "error": "invalid_limit"}
    inclusive = flag(params.get("inclusive"))
    upto: Decimal | None = None
    if params.get("cursor"):
        upto = _cursor_ts(str(params["cursor"]))
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
        cursor = base64.b64encode(f"next_ts:{rest[0].ts}".encode()).decode()
        body["response_metadata"] = {"next_cursor": cursor}
    return body
