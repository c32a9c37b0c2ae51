"""Trigger-campaign refresh: the complete list of active trigger campaigns, then any new at-risk warnings."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from notifbot.errors import MarketoError
from notifbot.marketo.client import MarketoClient
from notifbot.model import Notification
from notifbot.sources.marketo.at_risk import announce_at_risk
from notifbot.store.marketo_state import record_poll_error, record_poll_success
from notifbot.store.runner import Database
from notifbot.store.trigger_state import CampaignRecord, SnapshotResult, apply_campaign_snapshot, iso_utc

log = logging.getLogger(__name__)

POLLER = "campaigns"


def campaign_record(raw: object) -> CampaignRecord | None:
    """An active trigger campaign from one `smartCampaigns.json` element, else None (batch, inactive, malformed)."""
    if not isinstance(raw, dict) or raw.get("type") != "trigger" or raw.get("isActive") is not True:
        return None
    cid = raw.get("id")
    if not isinstance(cid, int) or isinstance(cid, bool):
        return None
    name = raw.get("name")
    url = raw.get("computedUrl")
    return CampaignRecord(
        cid,
        str(name) if name else f"Campaign {cid}",
        url if isinstance(url, str) and url else None,
        created_at=iso_utc(raw.get("createdAt")),  # bounds idle time: a campaign is not idle before it exists
    )


class CampaignRefresh:
    """Pages through the active smart campaigns of one instance and stores the trigger ones (all or nothing)."""

    def __init__(
        self,
        client: MarketoClient,
        db: Database,
        accept: Callable[[list[Notification]], Awaitable[object]],
        at_risk_days: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client, self.db, self.accept = client, db, accept
        self.at_risk_days, self.clock = at_risk_days, clock
        self.last: SnapshotResult | None = None

    async def run_once(self) -> None:
        """One refresh; a failure part-way stores nothing (a partial list would mark campaigns inactive)."""
        now, munchkin = self.clock(), self.client.munchkin_id
        records: list[CampaignRecord] = []
        try:
            raw: Any
            async for raw in self.client.iter_smart_campaigns(is_active=True):
                if (record := campaign_record(raw)) is not None:
                    records.append(record)
        except MarketoError as exc:
            log.warning("campaign refresh %s: %s", munchkin, exc)
            await self.db.call(
                record_poll_error, munchkin, POLLER, now, str(exc), self.client.calls_for(POLLER)
            )
            return
        self.last = await self.db.call(apply_campaign_snapshot, munchkin, records, now)
        await self.db.call(record_poll_success, munchkin, POLLER, now, self.client.calls_for(POLLER))
        log.info(
            "trigger campaigns refreshed",
            extra={"instance": munchkin, "active": self.last.active, "new": self.last.new},
        )
        await announce_at_risk(self.db, self.accept, munchkin, now, self.at_risk_days)
