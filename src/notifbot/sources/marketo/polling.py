"""Marketo polling for every configured instance: one paced, budgeted client, a quota watch, trigger-health polls;
also the component the app starts and stops (`build_marketo`)."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from notifbot.central_time import central_date
from notifbot.config import MarketoSettings
from notifbot.marketo.client import MarketoClient
from notifbot.metrics import Metrics
from notifbot.model import Kind, Notification
from notifbot.pipeline import Pipeline
from notifbot.scheduler import Pollers
from notifbot.sources.marketo import activities as marketo_activities
from notifbot.sources.marketo import campaigns as marketo_campaigns
from notifbot.sources.marketo import quota as marketo_quota
from notifbot.sources.marketo.activities import ActivityScan
from notifbot.sources.marketo.campaigns import CampaignRefresh
from notifbot.sources.marketo.cleanup_notices import record_cleanup_notices
from notifbot.sources.marketo.quota import QuotaWatch
from notifbot.store.marketo_state import calls_made_on
from notifbot.store.runner import Database

# each poller's name is also the budget feature its calls count against
FEATURES = (marketo_quota.POLLER, marketo_campaigns.POLLER, marketo_activities.POLLER)


class MarketoPolling:
    """Owns the instances' clients and registers their polls (`quota:`, `campaigns:`, `activities:` + munchkin id)."""

    def __init__(
        self,
        settings: MarketoSettings,
        db: Database,
        accept: Callable[[list[Notification]], Awaitable[object]],
        pollers: Pollers,
    ) -> None:
        self.db = db
        self.clients: list[MarketoClient] = []
        t = settings.triggers
        for inst in settings.instances:
            client = MarketoClient(inst, budget=settings.budget_for(inst), caps=settings.caps_for(inst))
            self.clients.append(client)
            watch = QuotaWatch(client, inst, db, accept, thresholds=settings.quota_thresholds)
            pollers.add(f"{marketo_quota.POLLER}:{inst.munchkin_id}", watch.poll, first_delay=5.0)
            if not t.enabled:
                continue
            refresh = CampaignRefresh(client, db, accept, t.at_risk_days)

            async def refresh_poll(refresh: CampaignRefresh = refresh) -> float:
                await refresh.run_once()
                return t.refresh_minutes * 60.0

            pollers.add(f"{marketo_campaigns.POLLER}:{inst.munchkin_id}", refresh_poll, first_delay=20.0)
            if t.activities != "off":
                scan = ActivityScan(client, db, t, accept)
                pollers.add(
                    f"{marketo_activities.POLLER}:{inst.munchkin_id}", scan.run_once, first_delay=40.0
                )

    async def restore_budgets(self) -> None:
        """A restart keeps counting today's calls, so each daily budget holds across restarts."""
        today = central_date(datetime.now(UTC))
        for client in self.clients:
            client.restore_calls_today(
                today, await self.db.read(calls_made_on, client.munchkin_id, today.isoformat())
            )

    def update_gauges(self, metrics: Metrics) -> None:
        """notifbot's own calls today per feature, and the budget, into the metrics."""
        for client in self.clients:
            calls = {f: client.calls_for(f) for f in FEATURES}
            metrics.set_marketo_calls(client.munchkin_id, client.budget, calls)

    async def __aenter__(self) -> MarketoPolling:
        """Restores today's call counts before any poll runs."""
        await self.restore_budgets()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Closes every client's connection pool."""
        for client in self.clients:
            with contextlib.suppress(Exception):
                await client.aclose()


def build_marketo(
    settings: MarketoSettings, db: Database, pipeline: Pipeline, pollers: Pollers
) -> MarketoPolling | None:
    """Marketo's cleanup notices update the tracked campaigns (polled or not); polls per configured instance."""

    async def on_stored(stored: Sequence[Notification]) -> None:
        await record_cleanup_notices(db, stored)

    pipeline.observe([Kind.TRIGGER_CLEANUP], on_stored)
    if not settings.instances:
        return None
    return MarketoPolling(settings, db, pipeline.accept, pollers)
