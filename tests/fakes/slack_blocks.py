"""Slack's payload checks for chat.postMessage / chat.update, as the fake Slack applies them."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse

_PLAIN_ONLY = "must be plain_text"


def _err(code: str, **fields: Any) -> JSONResponse:
    return JSONResponse({"ok": False, "error": code, **fields})


def _decode(value: Any) -> Any:
    """Form fields carry JSON as strings; JSON bodies may carry either."""
    return json.loads(value) if isinstance(value, str) else value


def _text_problems(obj: Any, limit: int, at: str, *, plain_only: bool = False) -> list[str]:
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        return [f"must be a text object [json-pointer:{at}]"]
    if plain_only and obj["type"] != "plain_text":
        return [f"{_PLAIN_ONLY} [json-pointer:{at}/type]"]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [f"must be a non-empty string [json-pointer:{at}/text]"]
    if len(text) > limit:
        return [f"must be less than {limit + 1} characters [json-pointer:{at}/text]"]
    return []


def _element_problems(el: Any, at: str) -> list[str]:
    if not isinstance(el, dict):
        return [f"must be an object [json-pointer:{at}]"]
    out: list[str] = []
    if el.get("type") == "button":
        out += _text_problems(el.get("text"), 75, f"{at}/text", plain_only=True)
        for key, limit in (("value", 2000), ("url", 3000), ("action_id", 255)):
            if isinstance(el.get(key), str) and len(el[key]) > limit:
                out.append(f"must be less than {limit + 1} characters [json-pointer:{at}/{key}]")
    return out


def block_problems(blocks: list[Any]) -> list[str]:
    """Slack-style `[ERROR]` texts for the Block Kit limits that matter to notifbot; empty when valid."""
    out: list[str] = []
    if len(blocks) > 50:
        out.append("no more than 50 items allowed [json-pointer:/blocks]")
    for i, block in enumerate(blocks):
        at = f"/blocks/{i}"
        if not isinstance(block, dict):
            out.append(f"must be an object [json-pointer:{at}]")
            continue
        kind = block.get("type")
        if isinstance(block.get("block_id"), str) and len(block["block_id"]) > 255:
            out.append(f"must be less than 256 characters [json-pointer:{at}/block_id]")
        if kind == "header":
            out += _text_problems(block.get("text"), 150, f"{at}/text", plain_only=True)
        elif kind == "section":
            text, fields = block.get("text"), block.get("fields")
            if text is None and not fields:
                out.append(f"must provide either text or fields [json-pointer:{at}]")
            if text is not None:
                out += _text_problems(text, 3000, f"{at}/text")
            if fields is not None and not isinstance(fields, list):
                out.append(f"must be an array [json-pointer:{at}/fields]")
            elif fields:
                if len(fields) > 10:
                    out.append(f"no more than 10 items allowed [json-pointer:{at}/fields]")
                for j, fld in enumerate(fields):
                    out += _text_problems(fld, 2000, f"{at}/fields/{j}")
        elif kind in ("context", "actions"):
            elements, most = block.get("elements"), 10 if kind == "context" else 25
            if not isinstance(elements, list) or not elements:
                out.append(f"must be a non-empty array [json-pointer:{at}/elements]")
                continue
            if len(elements) > most:
                out.append(f"no more than {most} items allowed [json-pointer:{at}/elements]")
            for j, el in enumerate(elements):
                out += _element_problems(el, f"{at}/elements/{j}")
        elif kind not in ("divider", "image", "rich_text", "input", "file", "video", "markdown"):
            out.append(f"unknown block type {kind!r} [json-pointer:{at}/type]")
    return out


def read_content(
    p: dict[str, Any],
) -> tuple[str | None, list[Any] | None, dict[str, Any] | None] | JSONResponse:
    """The text, blocks and metadata of a post or update, or the Slack error answering a bad one."""
    text = p.get("text")
    text = None if text is None else str(text)
    blocks: list[Any] | None = None
    if p.get("blocks") not in (None, ""):
        try:
            blocks = _decode(p["blocks"])
        except ValueError:
            return _err("invalid_blocks_format")
        if not isinstance(blocks, list):
            return _err("invalid_blocks_format")
        problems = block_problems(blocks)
        if problems:
            messages = [f"[ERROR] {m}" for m in problems]
            return _err("invalid_blocks", errors=problems, response_metadata={"messages": messages})
    if not text and not blocks:
        return _err("no_text")
    if text and len(text) > 40000:
        return _err("msg_too_long")
    metadata: dict[str, Any] | None = None
    if p.get("metadata") not in (None, ""):
        try:
            metadata = _decode(p["metadata"])
        except ValueError:
            return _err("invalid_metadata_format")
        if not (
            isinstance(metadata, dict)
            and isinstance(metadata.get("event_type"), str)
            and isinstance(metadata.get("event_payload"), dict)
        ):
            return _err("invalid_metadata_format")
    return text, blocks, metadata
