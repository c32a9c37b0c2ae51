"""A digest's one message: its period and mix, count and first items, posted through the group sender once."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from notifbot.groups import MESSAGE_ITEMS, GroupView
from notifbot.kinds import item_label
from notifbot.store.digests import DigestContent


def _local(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%b %d %H:%M").replace(" 0", " ")


def summary(content: DigestContent) -> str:
    """e.g. `digest kind=lead_sync_failure · Dec 1 8:00 – Dec 2 8:00 Europe/Stockholm · 300 lead_sync_failure on 1`."""
    zone = ZoneInfo(content.timezone)
    span = f"{_local(content.period.start, zone)} – {_local(content.period.end, zone)} {content.timezone}"
    mix = ", ".join(
        f"{n} {kind}" + (f" on {instance}" if instance else "") for kind, instance, n in content.breakdown
    )
    return f"digest {content.label} · {span} · {mix}"


def view_of(content: DigestContent) -> GroupView:
    """The digest's message as a group view: the first event as its face, the summary instead of a time span."""
    return GroupView(
        first=content.first,
        count=content.count,
        first_seen=content.period.start,
        last_seen=content.period.end,
        items=tuple(item_label(n) for n in content.head[:MESSAGE_ITEMS]),
        severity=content.severity,
        key=content.label,
        digest=summary(content),
    )
