"""Terminal views of a rendered Slack message: readable text, or pretty JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from notifbot.text import unescape_mrkdwn

_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]*)>")
_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")


def _display(mrkdwn: str) -> str:
    """mrkdwn as plain terminal text: links as "label (url)", bold marks dropped, entities decoded."""
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})", mrkdwn)
    return unescape_mrkdwn(_BOLD.sub(r"\1", text))


def _text_of(obj: Any) -> str:
    if not isinstance(obj, Mapping):
        return ""
    text = obj.get("text")
    if not isinstance(text, str):
        return ""
    return _display(text) if obj.get("type") == "mrkdwn" else text


def _field(obj: Any) -> str:
    """A "*Label*\\nvalue" field as "Label: value"."""
    label, _, value = _text_of(obj).partition("\n")
    return f"{label}: {value}" if value else label


def _block_lines(block: Mapping[str, Any]) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        title = _text_of(block.get("text"))
        for code, glyph in _EMOJI.items():
            title = title.replace(code, glyph)
        return [title, "═" * min(len(title) + 1, 80)]
    if kind == "section":
        lines = [_text_of(block["text"])] if "text" in block else []
        fields = block.get("fields")
        if isinstance(fields, list):
            lines += [_field(f) for f in fields]
        return lines
    if kind == "actions":
        out = []
        for el in block.get("elements") or []:
            if isinstance(el, Mapping) and el.get("url"):
                out.append(f"→ {_text_of(el.get('text'))}: {el['url']}")
        return out
    if kind == "context":
        parts = [_text_of(el) for el in block.get("elements") or []]
        return [" · ".join(p for p in parts if p)]
    if kind == "divider":
        return ["─" * 40]
    return []


_EMOJI = {":red_circle:": "🔴", ":large_orange_circle:": "🟠", ":large_blue_circle:": "🔵"}


def render_console(message: Mapping[str, Any]) -> str:
    """A Slack message as readable terminal text (header, facts, sections, link, context)."""
    blocks = message.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        return unescape_mrkdwn(str(message.get("text", "")))
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Mapping):
            lines.extend(_block_lines(block))
    return "\n".join(lines)


def render_console_json(message: Mapping[str, Any]) -> str:
    """A Slack message as pretty JSON."""
    return json.dumps(message, indent=2, ensure_ascii=False)
