"""Adaptive Card 1.5 for a Notification: the same facts, advice and link as Slack, kept under Teams' size limit."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from notifbot.groups import GroupView, ThreadItems
from notifbot.kinds import Listing, Parts, describe, what_to_do
from notifbot.links import DEFAULT_LINKS, LinkPolicy, classify_link, link_label
from notifbot.model import Acked, Notification, Severity
from notifbot.render.card import (
    MAX_CARD_BYTES,
    Element,
    card,
    card_size,
    facts,
    label,
    linked_runs,
    plain,
    rich,
    run,
)
from notifbot.text import as_text, format_count, format_when, one_line, truncate

ICON: Mapping[Severity, str] = {Severity.CRITICAL: "🔴", Severity.WARNING: "🟠", Severity.INFO: "🔵"}
COLOR: Mapping[Severity, str] = {
    Severity.CRITICAL: "Attention",
    Severity.WARNING: "Warning",
    Severity.INFO: "Accent",
}
# (chars per fact, detail chars, list items, chars per list line); each step down is tried until the card fits
LEVELS = ((1_000, 2_000, 50, 300), (400, 800, 25, 160), (150, 300, 10, 100), (60, 120, 3, 60))
TITLE = 200
SUMMARY = 1_500
CONTEXT = 300
ADVICE = 1_000


LIST_URL = 500  # longer campaign links are shown unlinked, as in Slack


def _campaign_runs(item: object, width: int, links: LinkPolicy) -> list[Element]:
    if not isinstance(item, Mapping):
        return [run("• " + truncate(one_line(as_text(item)), width))]
    name = one_line(as_text(item.get("name"))) or f"Campaign {as_text(item.get('id'))}".strip()
    link = classify_link(item.get("url"), links)
    runs = linked_runs("• " + truncate(name, width), link if link and len(link.url) <= LIST_URL else None)
    program = one_line(as_text(item.get("program_name")))
    if program:
        runs.append(run(" — " + truncate(program, width // 2), isSubtle=True))
    return runs


def _lead_runs(item: object, width: int) -> list[Element]:
    if not isinstance(item, Mapping):
        return [run("• " + truncate(one_line(as_text(item)), width))]
    name = one_line(as_text(item.get("name"))) or f"Lead {as_text(item.get('id'))}".strip()
    email = one_line(as_text(item.get("email")))
    error = one_line(as_text(item.get("error")))
    text = "• " + truncate(name, width // 3) + (f" ({truncate(email, width // 3)})" if email else "")
    runs = [run(text)]
    if error:
        runs.append(run(": " + truncate(error, width // 2), isSubtle=True))
    return runs


def _listing(listing: Listing, items: int, width: int, links: LinkPolicy) -> list[Element]:
    def runs_of(item: object, width: int) -> list[Element]:
        return _campaign_runs(item, width, links) if listing.kind == "campaigns" else _lead_runs(item, width)

    total = max(listing.total, len(listing.items))
    out = [plain(f"{listing.title} ({format_count(total)})", TITLE, {"separator": True}, weight="Bolder")]
    shown = listing.items[:items]
    out.extend(rich(*runs_of(item, width), spacing="None") for item in shown)
    if total > len(shown):
        out.append(rich(run(f"… and {format_count(total - len(shown))} more", isSubtle=True), spacing="None"))
    return out


def _context(n: Notification) -> Element:
    items = []
    if n.instance:
        items.append(f"Instance {truncate(one_line(as_text(n.instance)), CONTEXT)}")
    items.append(format_when(n.occurred_at))
    items.append(f"Kind {truncate(one_line(n.kind_label), CONTEXT)}")
    items.append(f"Key {truncate(one_line(as_text(n.key)), CONTEXT)}")
    if n.labels and isinstance(n.labels, Mapping):
        pairs = ", ".join(f"{k}={as_text(v)}" for k, v in n.labels.items())
        items.append("Labels " + truncate(one_line(pairs), 500))
    return plain(" · ".join(items), 2_000, {"separator": True}, size="Small", isSubtle=True)


def fallback_text(parts: Parts, n: Notification) -> str:
    """One plain line: the title and the first facts (notification previews, screen readers)."""
    head = "; ".join(f"{k}: {truncate(one_line(v), 100)}" for k, v in parts.facts[:4])
    return one_line(parts.title) + (f" — {head}" if head else "")


UNSHOWN = "(this part could not be shown)"


def _part(build: Callable[[], list[Element]]) -> list[Element]:
    """The elements `build` makes, or one placeholder when it fails: one bad part never costs the card."""
    try:
        return build()
    except Exception:
        return [plain(UNSHOWN, 100, isSubtle=True)]


def _summary(n: Notification, limit: int) -> list[Element]:
    summary = as_text(n.summary).strip() if n.summary else ""
    return [plain(summary, limit)] if summary else []


def _facts_and_detail(parts: Parts, fact_chars: int, detail_chars: int) -> list[Element]:
    out: list[Element] = []
    shown = [(k, v) for k, v in parts.facts if v.strip()]
    if shown:
        out.append(facts(shown, fact_chars))
    if parts.detail is not None and parts.detail[1].strip():
        out.append(label(parts.detail[0]))
        out.append(plain(parts.detail[1].strip(), detail_chars, {"spacing": "None"}))
    return out


def _acked(acked: Acked | None) -> list[Element]:
    if acked is None:
        return []
    who = truncate(one_line(as_text(acked.user_id)), 80)
    return [plain(f"✅ Acknowledged by {who} · {format_when(acked.at)}", 300, color="Good")]


def _group(group: GroupView, width: int) -> list[Element]:
    """The group's count, time span and first items (the rest are in the thread), and whether it resolved."""
    noun = "event" if group.count == 1 else "events"
    span = f"first {format_when(group.first_seen)}"
    if group.count > 1:
        span += f" · last {format_when(group.last_seen)}"
    if group.digest is not None:
        span = truncate(one_line(group.digest), 1000)
    out = [
        rich(run(f"{format_count(group.count)} {noun}", weight="Bolder"), run(f" · {span}", isSubtle=True))
    ]
    if group.count > 1:
        out.extend(rich(run("• " + truncate(one_line(i), width)), spacing="None") for i in group.items)
        if group.more:
            where = "" if group.digest is not None else " (listed in the thread)"
            more = f"… and {format_count(group.more)} more{where}"
            out.append(rich(run(more, isSubtle=True), spacing="None"))
    if group.state == "resolved":
        out.append(plain("✅ Resolved", 100, color="Good", weight="Bolder"))
    return out


def _title(n: Notification, parts: Parts, group: GroupView | None) -> tuple[str, str]:
    """The card's title line and its colour."""
    if group is None:
        if n.resolved:
            return f"✅ Resolved: {one_line(parts.title)}", "Good"
        return f"{ICON.get(n.severity, '🔔')} {one_line(parts.title)}", COLOR.get(n.severity, "Default")
    if group.state == "resolved":
        return f"✅ Resolved: {one_line(parts.title)}", "Good"
    count = f" ×{format_count(group.count)}" if group.count > 1 else ""
    return f"{ICON.get(group.severity, '🔔')} {one_line(parts.title)}{count}", COLOR.get(
        group.severity, "Default"
    )


def _body(
    n: Notification,
    parts: Parts,
    acked: Acked | None,
    level: tuple[int, int, int, int],
    links: LinkPolicy,
    group: GroupView | None = None,
) -> list[Element]:
    fact_chars, detail_chars, items, width = level
    title, color = _title(n, parts, group)
    body: list[Element] = [plain(title, TITLE, size="Large", weight="Bolder", color=color)]
    listing = parts.listing
    for part in (
        _part(lambda: _group(group, width) if group is not None else []),
        _part(lambda: _summary(n, min(SUMMARY, detail_chars))),
        _part(lambda: _facts_and_detail(parts, fact_chars, detail_chars)),
        _part(lambda: _listing(listing, items, width, links) if listing is not None else []),
        [label("What to do") | {"separator": True}],
        _part(lambda: [plain(what_to_do(n), ADVICE, {"spacing": "None"})]),
        _part(lambda: _acked(acked)),
        _part(lambda: [_context(n)]),
    ):
        body.extend(part)
    return body


def render_teams(
    n: Notification,
    *,
    acked: Acked | None = None,
    links: LinkPolicy = DEFAULT_LINKS,
    group: GroupView | None = None,
) -> dict[str, Any]:
    """The Adaptive Card (a dict, `msteams.width: Full`) for `n`; smaller levels of detail until it fits.

    `links` says which hosts are Marketo's (only their links are labelled "Open in Marketo"); `group` makes it
    the card of an alert group (`n` its first event): count, time span, first items, state.
    """
    parts = describe(n, links)
    actions = []
    if parts.link is not None:
        title = link_label(parts.link, parts.link_label)
        actions.append({"type": "Action.OpenUrl", "title": title, "url": parts.link.url})
    try:
        fallback = fallback_text(parts, n)
        if group is not None and group.count > 1:
            fallback = f"{format_count(group.count)}× {fallback}"
    except Exception:  # the preview text degrades alone
        fallback = "Marketo notification"
    for level in LEVELS:
        out = card(_body(n, parts, acked, level, links, group), actions, fallback=fallback)
        if card_size(out) <= MAX_CARD_BYTES:
            return out
    minimal = [  # only reached with absurd input (e.g. megabytes of labels): title, advice, link
        plain(f"{ICON.get(n.severity, '🔔')} {one_line(parts.title)}", TITLE, weight="Bolder"),
        plain(what_to_do(n), ADVICE),
        plain(f"Kind {n.kind_label} · Key {truncate(one_line(as_text(n.key)), 200)}", 400, isSubtle=True),
    ]
    return card(minimal, actions, fallback=truncate(fallback, 200))


def render_teams_thread(reply: ThreadItems) -> dict[str, Any]:
    """A reply card in a group card's thread: items `first`… of `total`, or the news that the group resolved."""
    if reply.resolved:
        return card([plain("✅ Resolved", 100, color="Good", weight="Bolder")], [], fallback="Resolved")
    if reply.reminder is not None:  # Slack's mention syntax means nothing in Teams: the reminder alone
        text = "⏰ " + truncate(one_line(reply.reminder), 1_000)
        return card([plain(text, 1_100, weight="Bolder")], [], fallback=truncate(text, 200))
    last = reply.first + len(reply.items) - 1
    head = f"Events {format_count(reply.first)}–{format_count(last)} of {format_count(reply.total)}"
    for width in (200, 100, 50):
        body = [plain(head, TITLE, weight="Bolder")]
        body += [rich(run("• " + truncate(one_line(i), width)), spacing="None") for i in reply.items]
        out = card(body, [], fallback=head)
        if card_size(out) <= MAX_CARD_BYTES:
            return out
    return card([plain(head, TITLE, weight="Bolder")], [], fallback=head)
