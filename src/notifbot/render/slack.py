"""Block Kit message for a Notification: header, facts, lists, advice, link button and context, within limits."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from notifbot.groups import GroupView, ThreadItems
from notifbot.kinds import Listing, Parts, describe, what_to_do
from notifbot.links import DEFAULT_LINKS, Link, LinkPolicy, classify_link, link_label, neutral_label
from notifbot.model import Acked, Notification, Severity
from notifbot.render import limits
from notifbot.text import (
    as_text,
    escape_mrkdwn,
    escape_truncate,
    format_count,
    format_when,
    one_line,
    plain_text,
    truncate,
)

Block = dict[str, Any]

EMOJI: Mapping[Severity, str] = {
    Severity.CRITICAL: ":red_circle:",
    Severity.WARNING: ":large_orange_circle:",
    Severity.INFO: ":large_blue_circle:",
}
FIELD_VALUE = 1_000  # shown chars per fact (Slack allows 2000 per field)
DETAIL_TEXT = 2_000
CONTEXT_ITEM = 300
FALLBACK_TEXT = 3_000
LIST_SECTIONS = 2
LIST_ITEMS = 50
LIST_RESERVE = 60  # room kept in the last list section for the "… and N more" line


def _mrkdwn(text: str) -> Block:
    return {"type": "mrkdwn", "text": text}


def _section(text: str) -> Block:
    return {"type": "section", "text": _mrkdwn(truncate(text, limits.SECTION_TEXT))}


def _labelled(label: str, value: str, limit: int) -> str:
    head = f"*{escape_truncate(one_line(label) or '?', 100)}*\n"
    return head + escape_truncate(value, limit - len(head))


LIST_URL = 500  # longer campaign links are shown unlinked, so a list line stays short


def linked(label: str, link: Link | None, *, limit: int = LIST_URL) -> str:
    """`label` (already escaped) linked to `link` when its host is Marketo's; else followed by a neutral link."""
    if link is None or len(link.url) > limit:
        return label
    url = escape_mrkdwn(link.url)
    return f"<{url}|{label}>" if link.marketo else f"{label} · <{url}|{neutral_label(link.host)}>"


def _campaign_line(item: object, links: LinkPolicy) -> str:
    if not isinstance(item, Mapping):
        return "• " + escape_truncate(one_line(as_text(item)), 200)
    name = one_line(as_text(item.get("name"))) or f"Campaign {as_text(item.get('id'))}".strip()
    line = "• " + linked(escape_truncate(name, 150), classify_link(item.get("url"), links))
    program = one_line(as_text(item.get("program_name")))
    idle = item.get("idle_days")
    bound = (
        "≥ " if item.get("idle_at_least") is True else ""
    )  # no activity seen as far back as notifbot looked
    idle_text = (
        f" · idle {bound}{format_count(idle)} days"
        if isinstance(idle, int) and not isinstance(idle, bool)
        else ""
    )
    return line + (f" — {escape_truncate(program, 100)}" if program else "") + idle_text


def _lead_line(item: object) -> str:
    if not isinstance(item, Mapping):
        return "• " + escape_truncate(one_line(as_text(item)), 200)
    name = one_line(as_text(item.get("name"))) or f"Lead {as_text(item.get('id'))}".strip()
    email = one_line(as_text(item.get("email")))
    error = one_line(as_text(item.get("error")))
    line = "• " + escape_truncate(name, 80)
    line += f" ({escape_truncate(email, 100)})" if email else ""
    return line + (f": {escape_truncate(error, 150)}" if error else "")


def _list_blocks(listing: Listing, links: LinkPolicy) -> list[Block]:
    def line_of(item: object) -> str:
        return _campaign_line(item, links) if listing.kind == "campaigns" else _lead_line(item)

    total = max(listing.total, len(listing.items))
    sections: list[list[str]] = [[f"*{escape_truncate(listing.title, 100)} ({format_count(total)})*"]]
    shown = 0
    for item in listing.items[:LIST_ITEMS]:
        line = line_of(item)
        current = sections[-1]
        size = sum(len(x) + 1 for x in current) + len(line)
        if size + LIST_RESERVE > limits.SECTION_TEXT:
            if len(sections) == LIST_SECTIONS:
                break
            sections.append([])
        sections[-1].append(line)
        shown += 1
    if total > shown:
        sections[-1].append(f"… and {format_count(total - shown)} more")
    return [_section("\n".join(lines)) for lines in sections if lines]


ACK_ACTION = "notifbot_ack"
MUTE_ACTION = "notifbot_mute_24h"
OPEN_ACTION = "open_in_marketo"
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,30}$")


def _actions(
    n: Notification, parts: Parts, interactive: bool, acked: Acked | None, group: GroupView | None = None
) -> Block | None:
    elements: list[Block] = []
    if interactive and acked is None:
        elements.append(
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Acknowledge", "emoji": True},
                "action_id": ACK_ACTION,
                "value": n.key,
                "style": "primary",
            }
        )
    if interactive:
        kind = plain_text(n.kind_label, 60)
        # an alert group's button mutes that group (its key, as matchers); a single alert's button, its kind
        scoped = group is not None and "=" in group.key and len(group.key) <= 1_900
        what = (
            f"this group's (*{escape_truncate(group.key, 300)}*)"
            if scoped and group
            else f"*{escape_mrkdwn(kind)}*"
        )
        elements.append(
            {
                "type": "button",
                "text": {
                    "type": "plain_text",
                    "text": "Mute this group 24 h" if scoped else "Mute this kind 24 h",
                    "emoji": True,
                },
                "action_id": MUTE_ACTION,
                "value": group.key if scoped and group else n.kind_label[:200],
                "confirm": {
                    "title": {"type": "plain_text", "text": "Mute for 24 hours?"},
                    "text": {
                        "type": "mrkdwn",
                        "text": f"New {what} notifications will be stored but not posted for 24 hours.",
                    },
                    "confirm": {"type": "plain_text", "text": "Mute 24 h"},
                    "deny": {"type": "plain_text", "text": "Cancel"},
                },
            }
        )
    if parts.link is not None:
        label = link_label(parts.link, parts.link_label, limits.BUTTON_TEXT)
        elements.append(
            {
                "type": "button",
                "text": {"type": "plain_text", "text": label, "emoji": True},
                "action_id": OPEN_ACTION,
                "url": parts.link.url,
            }
        )
    return {"type": "actions", "elements": elements} if elements else None


def _acked_line(acked: Acked) -> Block:
    who = f"<@{acked.user_id}>" if _SLACK_USER.match(acked.user_id) else escape_mrkdwn(acked.user_id[:40])
    return {
        "type": "context",
        "elements": [_mrkdwn(f":white_check_mark: Acknowledged by {who} · {format_when(acked.at)}")],
    }


def _context(n: Notification) -> Block:
    items = []
    if n.instance:
        items.append(f"Instance {escape_truncate(one_line(as_text(n.instance)), CONTEXT_ITEM)}")
    items.append(escape_truncate(format_when(n.occurred_at), CONTEXT_ITEM))
    items.append(f"Kind {escape_truncate(one_line(n.kind_label), CONTEXT_ITEM)}")
    items.append(f"Key {escape_truncate(one_line(as_text(n.key)), CONTEXT_ITEM)}")
    if n.labels and isinstance(n.labels, Mapping):
        pairs = ", ".join(f"{k}={as_text(v)}" for k, v in n.labels.items())
        items.append("Labels " + escape_truncate(one_line(pairs), 500))
    return {
        "type": "context",
        "elements": [_mrkdwn(t) for t in items if t.strip()][: limits.CONTEXT_ELEMENTS],
    }


def _fallback(parts: Parts, n: Notification) -> str:
    facts = "; ".join(f"{label}: {truncate(one_line(value), 200)}" for label, value in parts.facts[:6])
    text = one_line(parts.title) + (f" — {facts}" if facts else "")
    if n.instance:
        text += f" ({one_line(as_text(n.instance))})"
    return escape_truncate(text, FALLBACK_TEXT) or "Marketo notification"


UNSHOWN = "(this part could not be shown)"


def _part(build: Callable[[], list[Block]]) -> list[Block]:
    """The blocks `build` makes, or one placeholder when it fails: one bad part never costs the message."""
    try:
        return build()
    except Exception:
        return [_section(f"_{UNSHOWN}_")]


def _summary(n: Notification) -> list[Block]:
    summary = as_text(n.summary) if n.summary else ""
    return [_section(escape_truncate(summary, limits.SECTION_TEXT))] if summary.strip() else []


def _facts(parts: Parts) -> list[Block]:
    fields = [_mrkdwn(_labelled(label, value, FIELD_VALUE)) for label, value in parts.facts if value.strip()]
    return [{"type": "section", "fields": fields[: limits.SECTION_FIELDS]}] if fields else []


def _detail(parts: Parts) -> list[Block]:
    if parts.detail is None or not parts.detail[1].strip():
        return []
    return [_section(_labelled(parts.detail[0], parts.detail[1], DETAIL_TEXT))]


RESOLVED_EMOJI = ":white_check_mark:"
GROUP_ITEM = 200  # chars per listed item
DIGEST_SUMMARY = 1000  # chars of a digest's period and mix


def _header(n: Notification, parts: Parts, group: GroupView | None) -> str:
    if group is None:
        if n.resolved:
            return f"{RESOLVED_EMOJI} Resolved: {parts.title}"
        return f"{EMOJI.get(n.severity, ':bell:')} {parts.title}"
    emoji = RESOLVED_EMOJI if group.state == "resolved" else EMOJI.get(group.severity, ":bell:")
    count = f" ×{format_count(group.count)}" if group.count > 1 else ""
    resolved = "Resolved: " if group.state == "resolved" else ""
    return f"{emoji} {resolved}{parts.title}{count}"


def _group_blocks(group: GroupView) -> list[Block]:
    """The group's count, time span and first items; the rest are in the thread."""
    span = f"first {format_when(group.first_seen)}"
    if group.count > 1:
        span += f" · last {format_when(group.last_seen)}"
    if group.digest is not None:
        span = group.digest
    lines = [
        f"*{format_count(group.count)} {'event' if group.count == 1 else 'events'}* · "
        + escape_truncate(one_line(span), DIGEST_SUMMARY)
    ]
    if group.count > 1:
        lines += ["• " + escape_truncate(one_line(item), GROUP_ITEM) for item in group.items]
        if group.more:
            where = "" if group.digest is not None else " (listed in the thread)"
            lines.append(f"… and {format_count(group.more)} more{where}")
    if group.state == "resolved":
        lines.append(f"{RESOLVED_EMOJI} *Resolved*")
    return [_section("\n".join(lines))]


def _blocks(
    n: Notification,
    parts: Parts,
    links: LinkPolicy,
    interactive: bool = False,
    acked: Acked | None = None,
    group: GroupView | None = None,
) -> list[Block]:
    header = plain_text(_header(n, parts, group), limits.HEADER_TEXT)
    blocks: list[Block] = [{"type": "header", "text": {"type": "plain_text", "text": header, "emoji": True}}]
    listing = parts.listing
    actions = _part(lambda: [a] if (a := _actions(n, parts, interactive, acked, group)) is not None else [])
    for part in (
        _part(lambda: _group_blocks(group) if group is not None else []),
        _part(lambda: _summary(n)),
        _part(lambda: _facts(parts)),
        _part(lambda: _detail(parts)),
        _part(lambda: _list_blocks(listing, links) if listing is not None else []),
        _part(lambda: [_section(_labelled("What to do", what_to_do(n), limits.SECTION_TEXT))]),
        actions,
        _part(lambda: [_acked_line(acked)] if acked is not None else []),
        _part(lambda: [_context(n)]),
    ):
        blocks.extend(part)
    return blocks


def fit(message: dict[str, Any]) -> dict[str, Any]:
    """Last guard: drop blocks that still break a limit, cap the count, and trim the fallback text."""
    if not limits.slack_limit_problems(message):
        return message
    blocks = [b for i, b in enumerate(message.get("blocks") or []) if not limits.block_problems(b, f"[{i}]")]
    if len(blocks) > limits.MAX_BLOCKS:
        blocks = blocks[: limits.MAX_BLOCKS - 1] + blocks[-1:]
    text = one_line(as_text(message.get("text"))) or "Marketo notification"
    out: dict[str, Any] = {"text": truncate(text, limits.MAX_TEXT)}
    if blocks:
        out["blocks"] = blocks
    return out


def render_slack(
    n: Notification,
    *,
    interactive: bool = False,
    acked: Acked | None = None,
    links: LinkPolicy = DEFAULT_LINKS,
    group: GroupView | None = None,
) -> dict[str, Any]:
    """The Slack message (`text` fallback plus Block Kit `blocks`, as raw dicts) for `n`.

    `interactive` adds the Acknowledge and Mute buttons (only when a Slack app receives the clicks);
    `acked` shows who acknowledged it instead of the Acknowledge button; `links` says which hosts are Marketo's;
    `group` makes it the message of an alert group (`n` its first event): count, time span, first items, state.
    """
    parts = describe(n, links)
    try:
        text = _fallback(parts, n)
        if group is not None and group.count > 1:
            text = f"{format_count(group.count)}× {text}"
    except Exception:  # the preview text degrades alone
        text = "Marketo notification"
    return fit({"text": text, "blocks": _blocks(n, parts, links, interactive, acked, group)})


def render_slack_thread(reply: ThreadItems) -> dict[str, Any]:
    """A thread reply of a group's message: items `first`… (1-based) of `total`, resolved, or a reminder."""
    if reply.resolved:
        return {"text": "Resolved", "blocks": [_section(f"{RESOLVED_EMOJI} *Resolved*")]}
    # a reminder's mention is the admin's, from config (validated there), never event text
    if reply.reminder is not None:
        lead = f"{reply.mention} " if reply.mention else ""
        text = f"{lead}:alarm_clock: {escape_truncate(one_line(reply.reminder), 1_000)}"
        return fit({"text": text, "blocks": [_section(text)]})
    items, first, total = list(reply.items), reply.first, reply.total
    last = first + len(items) - 1
    head = f"*Events {format_count(first)}–{format_count(last)} of {format_count(total)}*"
    lines = [head] + ["• " + escape_truncate(one_line(i), GROUP_ITEM) for i in items]
    sections: list[list[str]] = [[]]
    for line in lines:
        if sum(len(x) + 1 for x in sections[-1]) + len(line) > limits.SECTION_TEXT - 10:
            sections.append([])
        sections[-1].append(line)
    text = f"Events {first}–{last} of {total}"
    return fit({"text": text, "blocks": [_section("\n".join(lines)) for lines in sections if lines]})
