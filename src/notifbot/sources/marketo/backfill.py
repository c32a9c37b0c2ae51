"""The deeper activity scan: where no activity was seen since the scan began, look further back, within budget.

A trigger campaign that was active before notifbot watched and had no activity since the scan's coverage began
(`covered_from`) is idle *at least* since then. Where that decides at-risk status (such a campaign is old enough to
have been idle `at_risk_days`, or its age is unknown), this moves the coverage back to `at_risk_days` ago, one window
of ≤ 31 days at a time, newest first, so every finished window raises every lower bound: by REST pages from the
window's start up to the covered boundary (one call per 300 activities), or by one Bulk Activity Extract per window
(a handful of calls whatever the volume). It spends only what the forward scan left of the run's slice of the
activities share, so it never takes calls the forward scan needs.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from notifbot.errors import MarketoError
from notifbot.iso_time import parse_time
from notifbot.marketo import bulk
from notifbot.sources.marketo.activity_pages import (
    PAGE_SIZE,
    RETRY_SAME_TOKEN,
    STATUS_WAIT,
    newest_per_campaign,
    page_pairs,
)
from notifbot.sources.marketo.at_risk import announce_at_risk
from notifbot.store.trigger_state import ACTIVITY_POLLER, iso_utc, undecided_at

if TYPE_CHECKING:
    from notifbot.sources.marketo.activities import ActivityScan, ScanCursor

log = logging.getLogger(__name__)

WINDOW_DAYS = bulk.MAX_WINDOW_DAYS
BULK_CALLS_PER_WINDOW = 6  # create, enqueue, a few status checks, the file


class DeeperScan:
    """Moves an ActivityScan's coverage back while that decides whether a campaign is at risk."""

    def __init__(self, scan: ActivityScan) -> None:
        self.scan = scan

    async def step(self, cursor: ScanCursor, now: datetime, spare: int) -> float:
        """Spends at most `spare` calls (one at a time); returns seconds until it wants to run again."""
        scan = self.scan
        while spare > 0:
            if cursor.back_start is None and not await self._open_window(cursor, now):
                return scan.every
            before = scan.client.calls_for(ACTIVITY_POLLER)
            if cursor.back_mode == "bulk":
                waiting = await self._bulk_call(cursor, now, spare)
            else:
                waiting = await self._rest_call(cursor, now)
            spare -= max(1, scan.client.calls_for(ACTIVITY_POLLER) - before)
            if waiting:
                return self._job_wait(cursor)
            if cursor.back_start is None:  # a window is done: lower bounds rose
                log.info("deeper activity scan %s: covered back to %s", scan.munchkin, cursor.covered_from)
                await announce_at_risk(scan.db, scan.accept, scan.munchkin, now, scan.settings.at_risk_days)
        return self._job_wait(cursor) if cursor.back_export_id is not None else scan.every

    def _job_wait(self, cursor: ScanCursor) -> float:
        """Until the next status check of a running job: soon when the forward scan idles between exports (its
        runs cost nothing then), else at the scan's own pace (each REST run pages, so running sooner costs calls)."""
        return STATUS_WAIT if cursor.mode == "bulk" else self.scan.every

    async def _open_window(self, cursor: ScanCursor, now: datetime) -> bool:
        """Starts the next window back when some campaign's risk is still undecided; False when none is."""
        scan = self.scan
        covered = parse_time(cursor.covered_from)
        target = now - timedelta(days=scan.settings.at_risk_days)
        if covered is None or covered <= target:
            return False
        if not await scan.db.read(undecided_at, scan.munchkin, target):
            return False
        cursor.back_start = iso_utc(max(target, covered - timedelta(days=WINDOW_DAYS)))
        cursor.back_mode = self._mode(cursor, (covered - target).total_seconds() / 86_400)
        cursor.back_token, cursor.back_export_id, cursor.back_queued = None, None, False
        return True

    def _mode(self, cursor: ScanCursor, days: float) -> str:
        """REST when paging `days` of activity costs no more than exports would; `rest`/`bulk` settings decide."""
        forced = self.scan.settings.activities
        if forced in ("rest", "bulk"):
            return forced
        if cursor.mode == "bulk" or cursor.rate_per_day is None:
            return "bulk"
        windows = math.ceil(days / WINDOW_DAYS)
        pages = cursor.rate_per_day * days / PAGE_SIZE + windows  # and a paging token per window
        return "rest" if pages <= windows * BULK_CALLS_PER_WINDOW else "bulk"

    @staticmethod
    def _close(cursor: ScanCursor) -> None:
        cursor.covered_from = cursor.back_start
        cursor.back_start = cursor.back_token = cursor.back_export_id = None
        cursor.back_queued = False

    async def _rest_call(self, cursor: ScanCursor, now: datetime) -> bool:
        """One REST call of the window: its paging token, else its next page (applied up to the covered boundary)."""
        scan, end = self.scan, cursor.covered_from or ""
        if cursor.back_token is None:
            cursor.back_token = await scan.client.paging_token(parse_time(cursor.back_start) or now)
            await scan.save(cursor, now)
            return False
        try:
            data = await scan.client.activities(cursor.back_token, scan.settings.activity_type_ids, PAGE_SIZE)
        except MarketoError as exc:
            if exc.code not in RETRY_SAME_TOKEN:  # e.g. an expired paging token: derive a new one next run
                cursor.back_token = None
                await scan.save(cursor, now)
            raise
        result = data.get("result")
        pairs, newest = page_pairs(result if isinstance(result, list) else [])
        latest = newest_per_campaign(p for p in pairs if p[1] < end)  # later ones are the forward scan's
        cursor.back_token = str(data.get("nextPageToken") or cursor.back_token)
        if not data.get("moreResult") or (newest is not None and newest >= end):
            self._close(cursor)
        await scan.save(cursor, now, latest)
        return False

    async def _bulk_call(self, cursor: ScanCursor, now: datetime, spare: int) -> bool:
        """One move of the window's export (two calls to fetch a finished one); True while it runs."""
        scan = self.scan
        start, end = parse_time(cursor.back_start), parse_time(cursor.covered_from)
        if start is None or end is None:
            self._close(cursor)
            return False
        if cursor.back_export_id is None:
            cursor.back_export_id = await bulk.create_export(
                scan.client, start, end, scan.settings.activity_type_ids
            )
            await scan.save(cursor, now)  # a crash now leaves a created job we resume, not an orphan
            return False
        if not cursor.back_queued:
            await bulk.enqueue_export(scan.client, cursor.back_export_id)
            cursor.back_queued = True
            await scan.save(cursor, now)
            return True
        if spare < 2:
            return True
        done = await scan.finished_export(
            cursor, now, cursor.back_export_id, "deeper activity export", _forget_export
        )
        if done is None:
            return True
        _, latest = done
        self._close(cursor)
        await scan.save(cursor, now, latest)
        return False


def _forget_export(cursor: ScanCursor) -> None:
    cursor.back_export_id, cursor.back_queued = None, False
