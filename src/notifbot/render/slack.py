"""Block Kit message for a Notification: header, facts, lists, advice, link button and context, within limits."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from notifbot.groups import GroupView, ThreadItems
from notifbot.i18n import EN, Texts
from notifbot.kinds import Listing, Parts
from notifbot.links import DEFAULT_LINKS, Link, LinkPolicy, classify_link, link_label, neutral_label
from notifbot.model import Acked, Notification, Severity
from notifbot.render import limits
from notifbot.render.content import (
    FALLBACK,
    UNSHOWN,
    Content,
    campaign_name,
    events,
    group_more,
    group_span,
    idle_days,
    lead_name,
    message_content,
    more_line,
    resolved_title,
    thread_head,
)
from notifbot.scopes import read_group_key, scope_label
from notifbot.text import (
    escape_mrkdwn,
    escape_truncate,
    one_line,
    plain_text,
    truncate,
)

if TYPE_CHECKING:
    from notifbot.render.templates import Templates

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


def linked(label: str, link: Link | None, *, limit: int = LIST_URL, t: Texts = EN) -> str:
    """`label` (already escaped) linked to `link` when its host is Marketo's; else followed by a neutral link."""
    if link is None or len(link.url) > limit:
        return label
    url = escape_mrkdwn(link.url)
    return f"<{url}|{label}>" if link.marketo else f"{label} · <{url}|{neutral_label(link.host, t=t)}>"


def _campaign_line(item: object, links: LinkPolicy, t: Texts) -> str:
    if not isinstance(item, Mapping):
        return "• " + escape_truncate(one_line(t.value(item)), 200)
    name = campaign_name(item, t)
    line = "• " + linked(escape_truncate(name, 150), classify_link(item.get("url"), links), t=t)
    program = one_line(t.value(item.get("program_name")))
    idle = idle_days(item, t)
    idle_text = f" · {idle}" if idle else ""
    return line + (f" — {escape_truncate(program, 100)}" if program else "") + idle_text


def _lead_line(item: object, t: Texts) -> str:
    if not isinstance(item, Mapping):
        return "• " + escape_truncate(one_line(t.value(item)), 200)
    name = lead_name(item, t)
    email = one_line(t.value(item.get("email")))
    error = one_line(t.value(item.get("error")))
    line = "• " + escape_truncate(name, 80)
    line += f" ({escape_truncate(email, 100)})" if email else ""
    return line + (f": {escape_truncate(error, 150)}" if error else "")


def _list_blocks(listing: Listing, links: LinkPolicy, t: Texts) -> list[Block]:
    def line_of(item: object) -> str:
        return _campaign_line(item, links, t) if listing.kind == "campaigns" else _lead_line(item, t)

    total = max(listing.total, len(listing.items))
    sections: list[list[str]] = [[f"*{escape_truncate(listing.title, 100)} ({t.count(total)})*"]]
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
        sections[-1].append(more_line(t, total - shown))
    return [_section("\n".join(lines)) for lines in sections if lines]


ACK_ACTION = "notifbot_ack"
MUTE_ACTION = "notifbot_mute_24h"
OPEN_ACTION = "open_in_marketo"
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,30}$")


def _kind_value(kind: str) -> str:
    """A single alert's Mute value: its kind's name, said as `kind="…"` when an `=` would read as a group key."""
    return f"kind={json.dumps(kind[:200])}" if "=" in kind else kind[:200]


def _actions(
    n: Notification,
    parts: Parts,
    interactive: bool,
    acked: Acked | None,
    group: GroupView | None,
    t: Texts,
) -> Block | None:
    elements: list[Block] = []
    if interactive and acked is None:
        elements.append(
            {
                "type": "button",
                # TRANSLATORS: a button; ≤ 75 chars
                "text": {"type": "plain_text", "text": t.pgettext("button", "Acknowledge"), "emoji": True},
                "action_id": ACK_ACTION,
                "value": n.key,
                "style": "primary",
            }
        )
    if interactive:
        kind = plain_text(n.kind_label, 60)
        # an alert group's button mutes that group (its key, as matchers); a single alert's button, its kind
        pairs = read_group_key(group.key) if group is not None and len(group.key) <= 1_900 else None
        if pairs is not None:
            # TRANSLATORS: the mute dialog's text (≤ 300 chars); {group} names the group in a few words,
            # e.g. "campaign failure · Q4 Webinar Invites"
            what = t._(
                "New notifications in this group ({group}) will be stored but not posted for 24 hours."
            )
            room = min(120, limits.CONFIRM_TEXT - len(what.format(group="")))
            question = what.format(group=escape_truncate(scope_label(pairs), room))
            # TRANSLATORS: a button; ≤ 75 chars
            button = t.pgettext("button", "Mute this group 24 h")
        else:
            # TRANSLATORS: the mute dialog's text (≤ 300 chars with the kind's name)
            what = t._("New *{kind}* notifications will be stored but not posted for 24 hours.")
            question = what.format(kind=escape_mrkdwn(kind))
            # TRANSLATORS: a button; ≤ 75 chars
            button = t.pgettext("button", "Mute this kind 24 h")
        elements.append(
            {
                "type": "button",
                "text": {"type": "plain_text", "text": button, "emoji": True},
                "action_id": MUTE_ACTION,
                "value": group.key if pairs is not None and group is not None else _kind_value(n.kind_label),
                "confirm": {
                    # TRANSLATORS: the mute dialog's title; ≤ 100 chars
                    "title": {"type": "plain_text", "text": t.pgettext("dialog", "Mute for 24 hours?")},
                    "text": {"type": "mrkdwn", "text": truncate(question, limits.CONFIRM_TEXT)},
                    # TRANSLATORS: the mute dialog's confirm button; ≤ 30 chars
                    "confirm": {"type": "plain_text", "text": t.pgettext("dialog", "Mute 24 h")},
                    # TRANSLATORS: the mute dialog's cancel button; ≤ 30 chars
                    "deny": {"type": "plain_text", "text": t.pgettext("dialog", "Cancel")},
                },
            }
        )
    if parts.link is not None:
        label = link_label(parts.link, parts.link_label, limits.BUTTON_TEXT, t)
        elements.append(
            {
                "type": "button",
                "text": {"type": "plain_text", "text": label, "emoji": True},
                "action_id": OPEN_ACTION,
                "url": parts.link.url,
            }
        )
    return {"type": "actions", "elements": elements} if elements else None


def _acked_line(acked: Acked, t: Texts) -> Block:
    who = f"<@{acked.user_id}>" if _SLACK_USER.match(acked.user_id) else escape_mrkdwn(acked.user_id[:40])
    line = t._("Acknowledged by {who} · {when}").format(who=who, when=t.when(acked.at))
    return {"type": "context", "elements": [_mrkdwn(":white_check_mark: " + line)]}


def _context(n: Notification, t: Texts) -> Block:
    items = []
    if n.instance:
        # TRANSLATORS: context line items ("Instance prod", "Kind campaign_failure", "Key k-1", "Labels team=ops")
        label = t.pgettext("context", "Instance {value}")
        items.append(label.format(value=escape_truncate(one_line(t.value(n.instance)), CONTEXT_ITEM)))
    items.append(escape_truncate(t.when(n.occurred_at), CONTEXT_ITEM))
    label = t.pgettext("context", "Kind {value}")
    items.append(label.format(value=escape_truncate(one_line(n.kind_label), CONTEXT_ITEM)))
    label = t.pgettext("context", "Key {value}")
    items.append(label.format(value=escape_truncate(one_line(t.value(n.key)), CONTEXT_ITEM)))
    if n.labels and isinstance(n.labels, Mapping):
        pairs = ", ".join(f"{k}={t.value(v)}" for k, v in n.labels.items())
        label = t.pgettext("context", "Labels {value}")
        items.append(label.format(value=escape_truncate(one_line(pairs), 500)))
    return {
        "type": "context",
        "elements": [_mrkdwn(x) for x in items if x.strip()][: limits.CONTEXT_ELEMENTS],
    }


def _fallback(parts: Parts, n: Notification, t: Texts) -> str:
    facts = "; ".join(f"{label}: {truncate(one_line(value), 200)}" for label, value in parts.facts[:6])
    text = one_line(parts.title) + (f" — {facts}" if facts else "")
    if n.instance:
        text += f" ({one_line(t.value(n.instance))})"
    return escape_truncate(text, FALLBACK_TEXT) or t._(FALLBACK)


def _part(build: Callable[[], list[Block]], t: Texts) -> list[Block]:
    """The blocks `build` makes, or one placeholder when it fails: one bad part never costs the message."""
    try:
        return build()
    except Exception:
        return [_section(f"_{t._(UNSHOWN)}_")]


def _summary(content: Content) -> list[Block]:
    summary = content.summary
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


def _header(n: Notification, parts: Parts, group: GroupView | None, t: Texts) -> str:
    if group is None:
        if n.resolved:
            return f"{RESOLVED_EMOJI} {resolved_title(t, parts.title)}"
        return f"{EMOJI.get(n.severity, ':bell:')} {parts.title}"
    emoji = RESOLVED_EMOJI if group.state == "resolved" else EMOJI.get(group.severity, ":bell:")
    count = f" ×{t.count(group.count)}" if group.count > 1 else ""
    title = resolved_title(t, parts.title) if group.state == "resolved" else parts.title
    return f"{emoji} {title}{count}"


def _group_blocks(group: GroupView, t: Texts) -> list[Block]:
    """The group's count, time span and first items; the rest are in the thread."""
    lines = [
        f"*{events(t, group.count)}* · " + escape_truncate(one_line(group_span(group, t)), DIGEST_SUMMARY)
    ]
    if group.count > 1:
        lines += ["• " + escape_truncate(one_line(item), GROUP_ITEM) for item in group.items]
        if group.more:
            lines.append(group_more(group, t))
    if group.state == "resolved":
        lines.append(f"{RESOLVED_EMOJI} *{t.pgettext('heading', 'Resolved')}*")
    return [_section("\n".join(lines))]


def _blocks(
    n: Notification,
    content: Content,
    links: LinkPolicy,
    t: Texts,
    interactive: bool = False,
    acked: Acked | None = None,
    group: GroupView | None = None,
) -> list[Block]:
    parts = content.parts
    header = plain_text(_header(n, parts, group, t), limits.HEADER_TEXT)
    blocks: list[Block] = [{"type": "header", "text": {"type": "plain_text", "text": header, "emoji": True}}]
    listing = parts.listing
    actions = _part(
        lambda: [a] if (a := _actions(n, parts, interactive, acked, group, t)) is not None else [], t
    )
    # TRANSLATORS: a heading; ≤ 3 words
    advice_label = t.pgettext("heading", "What to do")
    for part in (
        _part(lambda: _group_blocks(group, t) if group is not None else [], t),
        _part(lambda: _summary(content), t),
        _part(lambda: _facts(parts), t),
        _part(lambda: _detail(parts), t),
        _part(lambda: _list_blocks(listing, links, t) if listing is not None else [], t),
        _part(lambda: [_section(_labelled(advice_label, content.advice_text(), limits.SECTION_TEXT))], t),
        actions,
        _part(lambda: [_acked_line(acked, t)] if acked is not None else [], t),
        _part(lambda: [_context(n, t)], t),
    ):
        blocks.extend(part)
    return blocks


def fit(message: dict[str, Any], texts: Texts = EN) -> dict[str, Any]:
    """Last guard: drop blocks that still break a limit, cap the count, and trim the fallback text."""
    if not limits.slack_limit_problems(message):
        return message
    blocks = [b for i, b in enumerate(message.get("blocks") or []) if not limits.block_problems(b, f"[{i}]")]
    if len(blocks) > limits.MAX_BLOCKS:
        blocks = blocks[: limits.MAX_BLOCKS - 1] + blocks[-1:]
    text = one_line(texts.value(message.get("text"))) or texts._(FALLBACK)
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
    texts: Texts = EN,
    templates: Templates | None = None,
) -> dict[str, Any]:
    """The Slack message (`text` fallback plus Block Kit `blocks`, as raw dicts) for `n`.

    `interactive` adds the Acknowledge and Mute buttons (only when a Slack app receives the clicks);
    `acked` shows who acknowledged it instead of the Acknowledge button; `links` says which hosts are Marketo's;
    `group` makes it the message of an alert group (`n` its first event): count, time span, first items, state;
    `texts` is the channel's language and time zone; `templates` the admin's title, summary and advice (§7).
    """
    content = message_content(n, links, texts, templates, group.count if group is not None else 1)
    try:
        text = _fallback(content.parts, n, texts)
        if group is not None and group.count > 1:
            text = f"{texts.count(group.count)}× {text}"
    except Exception:  # the preview text degrades alone
        text = texts._(FALLBACK)
    blocks = _blocks(n, content, links, texts, interactive, acked, group)
    return fit({"text": text, "blocks": blocks}, texts)


def render_slack_thread(reply: ThreadItems, *, texts: Texts = EN) -> dict[str, Any]:
    """A thread reply of a group's message: items `first`… (1-based) of `total`, resolved, or a reminder."""
    t = texts
    if reply.resolved:
        resolved = t.pgettext("heading", "Resolved")
        return {"text": resolved, "blocks": [_section(f"{RESOLVED_EMOJI} *{resolved}*")]}
    # a reminder's mention is the admin's, from config (validated there), never event text
    if reply.reminder is not None:
        lead = f"{reply.mention} " if reply.mention else ""
        text = f"{lead}:alarm_clock: {escape_truncate(one_line(reply.reminder), 1_000)}"
        return fit({"text": text, "blocks": [_section(text)]}, t)
    items, first, total = list(reply.items), reply.first, reply.total
    last = first + len(items) - 1
    head = f"*{thread_head(t, first, last, total)}*"
    lines = [head] + ["• " + escape_truncate(one_line(i), GROUP_ITEM) for i in items]
    sections: list[list[str]] = [[]]
    for line in lines:
        if sum(len(x) + 1 for x in sections[-1]) + len(line) > limits.SECTION_TEXT - 10:
            sections.append([])
        sections[-1].append(line)
    text = t._("Events {first}–{last} of {total}").format(first=first, last=last, total=total)
    return fit({"text": text, "blocks": [_section("\n".join(lines)) for lines in sections if lines]}, t)
