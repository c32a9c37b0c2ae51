"""At-risk warnings: a `trigger_cleanup` notification (`stage: at_risk`) before Marketo's idle cleanup strikes."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from notifbot.model import Notification
from notifbot.sources.events import parse_event
from notifbot.store.runner import Database
from notifbot.store.trigger_state import (
    CLEANUP_DAYS,
    AtRisk,
    at_risk_unannounced,
    mark_at_risk_announced,
)


def at_risk_notification(instance: str, campaigns: Sequence[AtRisk], now: datetime) -> Notification:
    """One warning naming every newly at-risk campaign; its id is stable, so a repeat after a crash dedupes."""
    digest = hashlib.sha256(
        "|".join(f"{c.campaign_id}@{c.idle_since:%Y%m%d}" for c in campaigns).encode()
    ).hexdigest()[:16]
    eligible = min(c.idle_since for c in campaigns) + timedelta(days=CLEANUP_DAYS)
    # numbers and dates only, no summary: the kind words them in each reader's language (trigger_cleanup.py)
    event = {
        "kind": "trigger_cleanup",
        "id": f"trigger-at-risk-{instance}-{digest}",
        "instance": instance,
        "occurred_at": now,
        "fields": {
            "stage": "at_risk",
            "eligible_from": eligible.date().isoformat(),
            "campaigns": [
                {
                    "id": c.campaign_id,
                    "name": c.name,
                    "program_name": c.program_name,
                    "url": c.url,
                    "idle_days": c.idle_days,
                    "idle_at_least": c.at_least,  # idle_days is a lower bound: no activity seen since idle_since
                    "idle_since": c.idle_since.date().isoformat(),
                }
                for c in campaigns
            ],
        },
    }
    return parse_event(event, now=now, source="marketo")


async def announce_at_risk(
    db: Database,
    accept: Callable[[list[Notification]], Awaitable[object]],
    instance: str,
    now: datetime,
    risk_days: int,
) -> int:
    """Sends one warning for campaigns newly idle ≥ `risk_days`, then marks them; returns how many it named."""
    fresh = await db.call(at_risk_unannounced, instance, now, risk_days)
    if not fresh:
        return 0
    await accept([at_risk_notification(instance, fresh, now)])
    await db.call(mark_at_risk_announced, instance, [c.campaign_id for c in fresh], now)
    return len(fresh)
