"""Slack Web API wire shapes for the sandbox: envelopes, request parameters and the message object."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse

from notifbot.sandbox.chat import BOT_USER, Message

TEAM = {"url": "https://notifbot-sandbox.slack.com/", "team": "Notifbot Sandbox", "team_id": "T0SANDBOX"}
BOT = {"user": "notifbot", "user_id": BOT_USER, "bot_id": "B0SANDBOXBOT"}


def ok(**fields: Any) -> JSONResponse:
    """Slack's success envelope."""
    return JSONResponse({"ok": True, **fields})


def err(code: str, status: int = 200, **fields: Any) -> JSONResponse:
    """Slack's error envelope: HTTP 200 with `ok: false` unless Slack uses another status."""
    return JSONResponse({"ok": False, "error": code, **fields}, status_code=status)


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
