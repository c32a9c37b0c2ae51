"""Renders a command Reply as a Slack message: every text escaped, https-only links, within Block Kit limits."""

from __future__ import annotations

from typing import Any

from notifbot.i18n import EN, N_, Texts
from notifbot.links import DEFAULT_LINKS, LinkPolicy, classify_link
from notifbot.render import limits
from notifbot.render.content import more_line
from notifbot.render.slack import linked
from notifbot.replies import Chart, Fact, Item, Reply, Section
from notifbot.text import escape_truncate, one_line, plain_text

Block = dict[str, Any]
TITLE = 200  # a section's bold heading
ITEM_TEXT = 300
ITEM_DETAIL = 500
LINK_URL = 1_000
LABEL = 100
FIELD_VALUE = 1_800
FOOTER = 2_000
FALLBACK = 3_000
LIST_BLOCKS = 4  # list sections per Section; the rest is counted in "… and N more"
LIST_RESERVE = 40  # room kept in a list section for the "… and N more" line
FAILED = ":warning: "
UNTITLED = N_("(untitled)")


def _mrkdwn(text: str) -> Block:
    return {"type": "mrkdwn", "text": text}


def _text_block(text: str) -> Block:
    return {"type": "section", "text": _mrkdwn(text)}


def _item_line(item: Item, links: LinkPolicy, t: Texts) -> str:
    label = escape_truncate(one_line(item.text), ITEM_TEXT) or t._(UNTITLED)
    line = "• " + linked(label, classify_link(item.url, links), limit=LINK_URL, t=t)
    detail = one_line(item.detail or "")
    return line + (f" — {escape_truncate(detail, ITEM_DETAIL)}" if detail else "")


def _list_blocks(section: Section, links: LinkPolicy, t: Texts) -> list[Block]:
    chunks: list[list[str]] = [[]]
    size = 0
    shown = 0
    for item in section.items:
        line = _item_line(item, links, t)
        if size + len(line) + 1 + LIST_RESERVE > limits.SECTION_TEXT:
            if len(chunks) == LIST_BLOCKS:
                break
            chunks.append([])
            size = 0
        chunks[-1].append(line)
        size += len(line) + 1
        shown += 1
    left = len(section.items) - shown + max(0, section.more)
    if left > 0:
        chunks[-1].append(more_line(t, left))
    return [_text_block("\n".join(lines)) for lines in chunks if lines]


def _field(fact: Fact) -> Block:
    label = escape_truncate(one_line(fact.label), LABEL) or "?"
    value = escape_truncate(fact.value.strip(), FIELD_VALUE) if fact.value.strip() else "—"
    return _mrkdwn(f"*{label}*\n{value}")


def _spark_block(chart: Chart) -> Block:
    """The chart as its line of bars, on a line of its own: a field is half the message wide and wraps a day's."""
    label = escape_truncate(one_line(chart.spark_label), LABEL)
    line = escape_truncate(one_line(chart.spark), FIELD_VALUE)
    return _text_block(f"*{label}:* {line}" if label else line)


def _section_blocks(section: Section, links: LinkPolicy, t: Texts) -> list[Block]:
    blocks: list[Block] = []
    title = one_line(section.title or "")
    head = f"*{escape_truncate(title, TITLE)}*" if title else ""
    body = (section.text or "").strip()
    if head or body:
        room = limits.SECTION_TEXT - len(head) - 1
        blocks.append(_text_block("\n".join(p for p in (head, escape_truncate(body, room)) if p)))
    fields = [_field(f) for f in section.facts]
    for start in range(0, len(fields), limits.SECTION_FIELDS):
        blocks.append({"type": "section", "fields": fields[start : start + limits.SECTION_FIELDS]})
    if section.chart is not None and section.chart.spark.strip():
        blocks.append(_spark_block(section.chart))
    blocks.extend(_list_blocks(section, links, t))
    return blocks


def _fallback(reply: Reply) -> str:
    first = next((s.text for s in reply.sections if s.text and s.text.strip()), "")
    text = one_line(reply.title) + (f": {one_line(first)}" if first else "")
    return escape_truncate(text, FALLBACK) or "notifbot"


def _fit(message: dict[str, Any]) -> dict[str, Any]:
    """Last guard: drop any block that still breaks a limit (none should)."""
    if not limits.slack_limit_problems(message):
        return message
    message["blocks"] = [b for i, b in enumerate(message["blocks"]) if not limits.block_problems(b, f"[{i}]")]
    return message


def render_reply(reply: Reply, links: LinkPolicy = DEFAULT_LINKS, texts: Texts = EN) -> dict[str, Any]:
    """`{"response_type", "text", "blocks"}` for a slash-command answer or a response_url post.

    `links` says which hosts are Marketo's: only their links are put on an item's own text; `texts` is the
    language of the few words the renderer adds ("… and 3 more").
    """
    title = (FAILED if not reply.ok else "") + (one_line(reply.title) or "notifbot")
    header: Block = {
        "type": "header",
        "text": {"type": "plain_text", "text": plain_text(title, limits.HEADER_TEXT), "emoji": True},
    }
    body = [b for s in reply.sections for b in _section_blocks(s, links, texts)]
    footer = escape_truncate(one_line(reply.footer or ""), FOOTER)
    tail: list[Block] = [{"type": "context", "elements": [_mrkdwn(footer)]}] if footer else []
    room = limits.MAX_BLOCKS - 1 - len(tail)
    if len(body) > room:
        left = len(body) - room + 1
        # TRANSLATORS: English says "parts" for 1 too
        note = _text_block(
            texts.ngettext("… {n} more parts left out", "… {n} more parts left out", left).format(
                n=texts.count(left)
            )
        )
        body = [*body[: room - 1], note]
    message = {
        "response_type": reply.visibility,
        "text": _fallback(reply),
        "blocks": [header, *body, *tail],
    }
    return _fit(message)
