"""A digest's one message: its period and mix, count and first items, posted through the group sender once."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from notifbot.groups import MESSAGE_ITEMS, GroupView
from notifbot.i18n import EN, Texts
from notifbot.kinds import item_label
from notifbot.store.digests import DigestContent


def _local(value: datetime, zone: ZoneInfo, t: Texts) -> str:
    return t.day_clock(value.astimezone(zone))


def _mix(t: Texts, kind: str, instance: str | None, n: int) -> str:
    if instance:
        # TRANSLATORS: one line of a digest's mix: how many events of a kind came from a Marketo instance
        return t._("{n} {kind} on {instance}").format(n=n, kind=kind, instance=instance)
    return f"{n} {kind}"


def summary(content: DigestContent, t: Texts = EN) -> str:
    """e.g. `digest kind=lead_sync_failure · Dec 1 8:00 – Dec 2 8:00 Europe/Stockholm · 300 lead_sync_failure on 1`."""
    zone = ZoneInfo(content.timezone)
    span = (
        f"{_local(content.period.start, zone, t)} – {_local(content.period.end, zone, t)} {content.timezone}"
    )
    mix = ", ".join(_mix(t, kind, instance, n) for kind, instance, n in content.breakdown)
    # TRANSLATORS: a digest's heading line: its label (e.g. kind=lead_sync_failure), its period and its mix
    return t._("digest {label} · {span} · {mix}").format(label=content.label, span=span, mix=mix)


def view_of(content: DigestContent, t: Texts = EN) -> GroupView:
    """The digest's message as a group view: the first event as its face, the summary instead of a time span."""
    return GroupView(
        first=content.first,
        count=content.count,
        first_seen=content.period.start,
        last_seen=content.period.end,
        items=tuple(item_label(n, t) for n in content.head[:MESSAGE_ITEMS]),
        severity=content.severity,
        key=content.label,
        digest=summary(content, t),
    )
