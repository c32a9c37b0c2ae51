"""Marketo's own cleanup notices ("scheduled", "deactivated") update the trigger campaigns they name."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from notifbot.model import Kind, Notification
from notifbot.store.runner import Database
from notifbot.store.trigger_state import apply_cleanup_notice

log = logging.getLogger(__name__)


def cleanup_notice(n: Notification) -> tuple[str, str, str | None, list[Mapping[str, Any]]] | None:
    """(instance, stage, date, campaigns) of a Marketo cleanup notice, else None (ours are `at_risk`).

    The date is the scheduled deactivation date, or for a "deactivated" notice the date it gives, else its own."""
    stage = n.fields.get("stage")
    if n.kind is not Kind.TRIGGER_CLEANUP or stage not in ("scheduled", "deactivated") or not n.instance:
        return None
    raw = n.fields.get("campaigns")
    campaigns = [c for c in raw if isinstance(c, Mapping)] if isinstance(raw, list) else []
    when = n.fields.get("deactivate_on")
    if (
        not when and stage == "deactivated"
    ):  # the confirmation is sent as Marketo deactivates: date it by itself
        when = n.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return n.instance, str(stage), str(when) if when else None, campaigns


async def record_cleanup_notices(db: Database, accepted: Sequence[Notification]) -> int:
    """Applies every cleanup notice among newly accepted notifications; returns how many campaigns they named."""
    named = 0
    for n in accepted:
        notice = cleanup_notice(n)
        if notice is not None:
            instance, stage, when, campaigns = notice
            named += await db.call(apply_cleanup_notice, instance, stage, when, campaigns, datetime.now(UTC))
    if named:
        log.info("cleanup notices applied to trigger campaigns", extra={"campaigns": named})
    return named
