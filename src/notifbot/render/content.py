"""What every renderer shows of a notification: the kind's parts and its advice, in the reader's language."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from notifbot.groups import GroupView
from notifbot.i18n import EN, N_, Texts
from notifbot.kinds import Parts, describe, what_to_do
from notifbot.links import DEFAULT_LINKS, LinkPolicy
from notifbot.model import Notification
from notifbot.text import as_text, one_line

FALLBACK = N_("Marketo notification")  # a message's preview text when nothing better can be said
UNSHOWN = N_("(this part could not be shown)")


@dataclass(frozen=True)
class Content:
    """The raw parts of one message and its "what to do" line (None when the kind's advisor failed)."""

    parts: Parts
    advice: str | None

    def advice_text(self) -> str:
        """The advice line; raises when there is none, so the renderer shows its "could not be shown" placeholder."""
        if self.advice is None:
            raise ValueError("no advice for this notification")
        return self.advice


def message_content(n: Notification, links: LinkPolicy = DEFAULT_LINKS, texts: Texts = EN) -> Content:
    """The one place a message's title, facts and advice are made (admin templates hook in here, §7)."""
    parts = describe(n, links, texts)
    try:
        advice: str | None = what_to_do(n, texts)
    except Exception:  # one bad part never costs the message
        advice = None
    return Content(parts, advice)


def summary_of(n: Notification, parts: Parts) -> str:
    """The summary shown under the title: the event's own when it brings one, else the kind's (raw text)."""
    if n.summary:
        return as_text(n.summary)
    return parts.summary or ""


# --- words every renderer adds around the kind's parts (raw text: each renderer escapes its own way) ---


def campaign_name(item: Mapping[str, object], t: Texts) -> str:
    """A listed campaign's name, or "Campaign 1234" when it has none (raw, one line)."""
    name = one_line(t.value(item.get("name")))
    return name or t._("Campaign {id}").format(id=t.value(item.get("id"))).strip()


def lead_name(item: Mapping[str, object], t: Texts) -> str:
    """A listed lead's name, or "Lead 1234" when it has none (raw, one line)."""
    name = one_line(t.value(item.get("name")))
    return name or t._("Lead {id}").format(id=t.value(item.get("id"))).strip()


def idle_days(item: Mapping[str, object], t: Texts) -> str:
    """ "idle 12 days" ("idle ≥ 90 days" when no activity was seen as far back as notifbot looked), or ""."""
    idle = item.get("idle_days")
    if not isinstance(idle, int) or isinstance(idle, bool):
        return ""
    bound = "≥ " if item.get("idle_at_least") is True else ""
    # TRANSLATORS: a campaign's days without activity; {bound} is "≥ " or empty. English says "days" for 1 too.
    return t.ngettext("idle {bound}{n} days", "idle {bound}{n} days", idle).format(
        bound=bound, n=t.count(idle)
    )


def more_line(t: Texts, n: int) -> str:
    """ "… and 12 more" (items not shown)."""
    return t._("… and {n} more").format(n=t.count(n))


def resolved_title(t: Texts, title: str) -> str:
    """ "Resolved: Campaign failed: X" (raw)."""
    # TRANSLATORS: a resolved alert's heading; keep it short (the header holds 150 chars with the title)
    return t._("Resolved: {title}").format(title=title)


def events(t: Texts, count: int) -> str:
    """ "1 event", "12 events"."""
    return t.ngettext("{n} event", "{n} events", count).format(n=t.count(count))


def group_span(group: GroupView, t: Texts) -> str:
    """When a group's events came ("first …", "first … · last …"), or the digest's period and mix (raw)."""
    if group.digest is not None:
        return group.digest
    if group.count > 1:
        return t._("first {first} · last {last}").format(
            first=t.when(group.first_seen), last=t.when(group.last_seen)
        )
    return t._("first {first}").format(first=t.when(group.first_seen))


def group_more(group: GroupView, t: Texts) -> str:
    """ "… and 12 more", with "(listed in the thread)" for an alert group (a digest has no thread)."""
    if group.digest is not None:
        return more_line(t, group.more)
    return t._("… and {n} more (listed in the thread)").format(n=t.count(group.more))


def thread_head(t: Texts, first: int, last: int, total: int) -> str:
    """ "Events 11–20 of 42"."""
    return t._("Events {first}–{last} of {total}").format(
        first=t.count(first), last=t.count(last), total=t.count(total)
    )
