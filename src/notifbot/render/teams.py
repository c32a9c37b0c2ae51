"""Adaptive Card 1.5 for a Notification: the same facts, advice and link as Slack, kept under Teams' size limit."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from notifbot.groups import GroupView, ThreadItems
from notifbot.i18n import EN, Texts
from notifbot.kinds import Listing, Parts
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
from notifbot.render.content import (
    FALLBACK,
    UNSHOWN,
    Content,
    campaign_name,
    events,
    group_more,
    group_span,
    lead_name,
    message_content,
    more_line,
    resolved_title,
    summary_of,
    thread_head,
)
from notifbot.text import one_line, truncate

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


def _campaign_runs(item: object, width: int, links: LinkPolicy, t: Texts) -> list[Element]:
    if not isinstance(item, Mapping):
        return [run("• " + truncate(one_line(t.value(item)), width))]
    name = campaign_name(item, t)
    link = classify_link(item.get("url"), links)
    runs = linked_runs(
        "• " + truncate(name, width), link if link and len(link.url) <= LIST_URL else None, t=t
    )
    program = one_line(t.value(item.get("program_name")))
    if program:
        runs.append(run(" — " + truncate(program, width // 2), isSubtle=True))
    return runs


def _lead_runs(item: object, width: int, t: Texts) -> list[Element]:
    if not isinstance(item, Mapping):
        return [run("• " + truncate(one_line(t.value(item)), width))]
    name = lead_name(item, t)
    email = one_line(t.value(item.get("email")))
    error = one_line(t.value(item.get("error")))
    text = "• " + truncate(name, width // 3) + (f" ({truncate(email, width // 3)})" if email else "")
    runs = [run(text)]
    if error:
        runs.append(run(": " + truncate(error, width // 2), isSubtle=True))
    return runs


def _listing(listing: Listing, items: int, width: int, links: LinkPolicy, t: Texts) -> list[Element]:
    def runs_of(item: object, width: int) -> list[Element]:
        if listing.kind == "campaigns":
            return _campaign_runs(item, width, links, t)
        return _lead_runs(item, width, t)

    total = max(listing.total, len(listing.items))
    out = [plain(f"{listing.title} ({t.count(total)})", TITLE, {"separator": True}, weight="Bolder")]
    shown = listing.items[:items]
    out.extend(rich(*runs_of(item, width), spacing="None") for item in shown)
    if total > len(shown):
        out.append(rich(run(more_line(t, total - len(shown)), isSubtle=True), spacing="None"))
    return out


def _context(n: Notification, t: Texts) -> Element:
    items = []
    if n.instance:
        value = truncate(one_line(t.value(n.instance)), CONTEXT)
        items.append(t.pgettext("context", "Instance {value}").format(value=value))
    items.append(t.when(n.occurred_at))
    items.append(
        t.pgettext("context", "Kind {value}").format(value=truncate(one_line(n.kind_label), CONTEXT))
    )
    items.append(
        t.pgettext("context", "Key {value}").format(value=truncate(one_line(t.value(n.key)), CONTEXT))
    )
    if n.labels and isinstance(n.labels, Mapping):
        pairs = ", ".join(f"{k}={t.value(v)}" for k, v in n.labels.items())
        items.append(t.pgettext("context", "Labels {value}").format(value=truncate(one_line(pairs), 500)))
    return plain(" · ".join(items), 2_000, {"separator": True}, size="Small", isSubtle=True)


def fallback_text(parts: Parts, n: Notification) -> str:
    """One plain line: the title and the first facts (notification previews, screen readers)."""
    head = "; ".join(f"{k}: {truncate(one_line(v), 100)}" for k, v in parts.facts[:4])
    return one_line(parts.title) + (f" — {head}" if head else "")


def _part(build: Callable[[], list[Element]], t: Texts) -> list[Element]:
    """The elements `build` makes, or one placeholder when it fails: one bad part never costs the card."""
    try:
        return build()
    except Exception:
        return [plain(t._(UNSHOWN), 100, isSubtle=True)]


def _summary(n: Notification, parts: Parts, limit: int) -> list[Element]:
    summary = summary_of(n, parts).strip()
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


def _acked(acked: Acked | None, t: Texts) -> list[Element]:
    if acked is None:
        return []
    who = truncate(one_line(t.value(acked.user_id)), 80)
    line = t._("Acknowledged by {who} · {when}").format(who=who, when=t.when(acked.at))
    return [plain(f"✅ {line}", 300, color="Good")]


def _resolved(t: Texts) -> Element:
    return plain("✅ " + t.pgettext("heading", "Resolved"), 100, color="Good", weight="Bolder")


def _group(group: GroupView, width: int, t: Texts) -> list[Element]:
    """The group's count, time span and first items (the rest are in the thread), and whether it resolved."""
    span = group_span(group, t)
    if group.digest is not None:
        span = truncate(one_line(span), 1000)
    out = [rich(run(events(t, group.count), weight="Bolder"), run(f" · {span}", isSubtle=True))]
    if group.count > 1:
        out.extend(rich(run("• " + truncate(one_line(i), width)), spacing="None") for i in group.items)
        if group.more:
            out.append(rich(run(group_more(group, t), isSubtle=True), spacing="None"))
    if group.state == "resolved":
        out.append(_resolved(t))
    return out


def _title(n: Notification, parts: Parts, group: GroupView | None, t: Texts) -> tuple[str, str]:
    """The card's title line and its colour."""
    if group is None:
        if n.resolved:
            return f"✅ {resolved_title(t, one_line(parts.title))}", "Good"
        return f"{ICON.get(n.severity, '🔔')} {one_line(parts.title)}", COLOR.get(n.severity, "Default")
    if group.state == "resolved":
        return f"✅ {resolved_title(t, one_line(parts.title))}", "Good"
    count = f" ×{t.count(group.count)}" if group.count > 1 else ""
    return f"{ICON.get(group.severity, '🔔')} {one_line(parts.title)}{count}", COLOR.get(
        group.severity, "Default"
    )


def _body(
    n: Notification,
    content: Content,
    acked: Acked | None,
    level: tuple[int, int, int, int],
    links: LinkPolicy,
    t: Texts,
    group: GroupView | None = None,
) -> list[Element]:
    fact_chars, detail_chars, items, width = level
    parts = content.parts
    title, color = _title(n, parts, group, t)
    body: list[Element] = [plain(title, TITLE, size="Large", weight="Bolder", color=color)]
    listing = parts.listing
    for part in (
        _part(lambda: _group(group, width, t) if group is not None else [], t),
        _part(lambda: _summary(n, parts, min(SUMMARY, detail_chars)), t),
        _part(lambda: _facts_and_detail(parts, fact_chars, detail_chars), t),
        _part(lambda: _listing(listing, items, width, links, t) if listing is not None else [], t),
        [label(t.pgettext("heading", "What to do")) | {"separator": True}],
        _part(lambda: [plain(content.advice_text(), ADVICE, {"spacing": "None"})], t),
        _part(lambda: _acked(acked, t), t),
        _part(lambda: [_context(n, t)], t),
    ):
        body.extend(part)
    return body


def render_teams(
    n: Notification,
    *,
    acked: Acked | None = None,
    links: LinkPolicy = DEFAULT_LINKS,
    group: GroupView | None = None,
    texts: Texts = EN,
) -> dict[str, Any]:
    """The Adaptive Card (a dict, `msteams.width: Full`) for `n`; smaller levels of detail until it fits.

    `links` says which hosts are Marketo's (only their links are labelled "Open in Marketo"); `group` makes it
    the card of an alert group (`n` its first event): count, time span, first items, state; `texts` is the
    channel's language and time zone.
    """
    t = texts
    content = message_content(n, links, t)
    parts = content.parts
    actions = []
    if parts.link is not None:
        title = link_label(parts.link, parts.link_label, t=t)
        actions.append({"type": "Action.OpenUrl", "title": title, "url": parts.link.url})
    try:
        fallback = fallback_text(parts, n)
        if group is not None and group.count > 1:
            fallback = f"{t.count(group.count)}× {fallback}"
    except Exception:  # the preview text degrades alone
        fallback = t._(FALLBACK)
    for level in LEVELS:
        out = card(_body(n, content, acked, level, links, t, group), actions, fallback=fallback)
        if card_size(out) <= MAX_CARD_BYTES:
            return out
    kind = t.pgettext("context", "Kind {value}").format(value=n.kind_label)
    key = t.pgettext("context", "Key {value}").format(value=truncate(one_line(t.value(n.key)), 200))
    minimal = [  # only reached with absurd input (e.g. megabytes of labels): title, advice, link
        plain(f"{ICON.get(n.severity, '🔔')} {one_line(parts.title)}", TITLE, weight="Bolder"),
        plain(content.advice or "", ADVICE),
        plain(f"{kind} · {key}", 400, isSubtle=True),
    ]
    return card(minimal, actions, fallback=truncate(fallback, 200))


def render_teams_thread(reply: ThreadItems, *, texts: Texts = EN) -> dict[str, Any]:
    """A reply card in a group card's thread: items `first`… of `total`, or the news that the group resolved."""
    t = texts
    if reply.resolved:
        return card([_resolved(t)], [], fallback=t.pgettext("heading", "Resolved"))
    if reply.reminder is not None:  # Slack's mention syntax means nothing in Teams: the reminder alone
        text = "⏰ " + truncate(one_line(reply.reminder), 1_000)
        return card([plain(text, 1_100, weight="Bolder")], [], fallback=truncate(text, 200))
    last = reply.first + len(reply.items) - 1
    head = thread_head(t, reply.first, last, reply.total)
    for width in (200, 100, 50):
        body = [plain(head, TITLE, weight="Bolder")]
        body += [rich(run("• " + truncate(one_line(i), width)), spacing="None") for i in reply.items]
        out = card(body, [], fallback=head)
        if card_size(out) <= MAX_CARD_BYTES:
            return out
    return card([plain(head, TITLE, weight="Bolder")], [], fallback=head)
