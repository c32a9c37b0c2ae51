"""Renders a command Reply as a Slack message (Block Kit), escaping all text and honouring every limit."""

from __future__ import annotations

from typing import Any

from notifbot.commands.model import Item, Reply, Section
from notifbot.render import limits
from notifbot.render.text import escape_mrkdwn, escape_truncate, one_line, plain_text, truncate

Block = dict[str, Any]
LINE = 300
LIST_BUDGET = limits.SECTION_TEXT - 60


def _mrkdwn(text: str) -> Block:
    return {"type": "mrkdwn", "text": text}


def _item_line(item: Item) -> str:
    text = escape_truncate(one_line(item.text), LINE)
    if (
        item.url
        and item.url.startswith("https://")
        and len(item.url) <= 1000
        and not any(c in item.url for c in "<>| ")
    ):
        text = f"<{item.url}|{text}>"
    if item.detail:
        text += " — " + escape_truncate(one_line(item.detail), LINE)
    return f"• {text}"


def _list_blocks(section: Section) -> list[Block]:
    lines, size, shown = [], 0, 0
    for item in section.items:
        line = _item_line(item)
        if size + len(line) + 1 > LIST_BUDGET:
            break
        lines.append(line)
        size += len(line) + 1
        shown += 1
    left = len(section.items) - shown + section.more
    if left > 0:
        lines.append(f"… and {left:,} more")
    return [{"type": "section", "text": _mrkdwn("\n".join(lines))}] if lines else []


def _section_blocks(section: Section) -> list[Block]:
    blocks: list[Block] = []
    head = f"*{escape_truncate(one_line(section.title), 200)}*" if section.title else ""
    body = escape_truncate(section.text, limits.SECTION_TEXT - 210) if section.text else ""
    if head or body:
        blocks.append({"type": "section", "text": _mrkdwn("\n".join(p for p in (head, body) if p))})
    facts = [
        _mrkdwn(f"*{escape_truncate(one_line(f.label), 100)}*\n{escape_truncate(f.value, 1800)}")
        for f in section.facts
        if f.value
    ]
    for start in range(0, len(facts), limits.SECTION_FIELDS):
        blocks.append({"type": "section", "fields": facts[start : start + limits.SECTION_FIELDS]})
    blocks.extend(_list_blocks(section))
    return blocks


def render_reply(reply: Reply) -> dict[str, Any]:
    """`{"response_type", "text", "blocks"}` for a slash-command answer or a response_url post."""
    blocks: list[Block] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": plain_text(reply.title, limits.HEADER_TEXT)},
        }
    ]
    for section in reply.sections:
        blocks.extend(_section_blocks(section))
    if reply.footer:
        blocks.append(
            {"type": "context", "elements": [_mrkdwn(escape_truncate(one_line(reply.footer), 2000))]}
        )
    if len(blocks) > limits.MAX_BLOCKS:
        blocks = [
            *blocks[: limits.MAX_BLOCKS - 1],
            {"type": "context", "elements": [_mrkdwn("… (reply shortened)")]},
        ]
    first = next((s.text for s in reply.sections if s.text), "")
    fallback = one_line(reply.title) + (f": {one_line(first)}" if first else "")
    return {
        "response_type": reply.visibility,
        "text": escape_mrkdwn(truncate(fallback, 3000)),
        "blocks": blocks,
    }
