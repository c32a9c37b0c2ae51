"""Activity scan: the newest activity per campaign, by REST pages or a daily Bulk Activity Extract, within budget.

REST costs one call per 300 activities; a bulk export costs a handful of calls whatever its size. In `auto` mode the
scan pages over REST while that fits the activities share of the daily budget, and switches to a daily bulk export
when it measures more activity than that share can page through (and back once the volume drops). Once its first
pass is done, what it covers starts at `covered_from`; the deeper scan (`marketo_backfill`) may move that back.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from notifbot.central_time import next_central_midnight
from notifbot.config import TriggerHealthSettings
from notifbot.errors import MarketoError
from notifbot.iso_time import parse_time
from notifbot.marketo import bulk
from notifbot.marketo.client import MarketoClient
from notifbot.model import Notification
from notifbot.sources.marketo.activity_pages import (
    PAGE_SIZE,
    RETRY_SAME_TOKEN,
    STATUS_WAIT,
    newest_per_campaign,
    page_pairs,
)
from notifbot.sources.marketo.at_risk import announce_at_risk
from notifbot.sources.marketo.backfill import DeeperScan
from notifbot.store.marketo_state import poller_state, record_poll_error, save_cursor
from notifbot.store.runner import Database
from notifbot.store.trigger_state import ACTIVITY_POLLER, apply_activity, iso_utc

log = logging.getLogger(__name__)

POLLER = ACTIVITY_POLLER
SWITCH_BACK = 0.5  # back to REST once a day's pages would use at most half the activities share


@dataclass
class ScanCursor:
    """Where the scan stands (stored as JSON): activities from `covered_from` up to `through` are applied.

    `origin` is where the first pass started; once that pass is done, `covered_from` (read by the idle-time SQL)
    takes its value and the deeper scan moves it back, one `back_*` window at a time.
    """

    mode: str = "rest"
    through: str | None = None
    token: str | None = None
    rate_per_day: float | None = None
    export_id: str | None = None
    export_start: str | None = None
    export_end: str | None = None
    queued: bool = False
    origin: str | None = None
    covered_from: str | None = None
    back_mode: str | None = None
    back_start: str | None = None
    back_token: str | None = None
    back_export_id: str | None = None
    back_queued: bool = False

    @classmethod
    def load(cls, text: str | None) -> ScanCursor:
        """The stored cursor, or a fresh one when none (or an unreadable one) is stored."""
        try:
            data = json.loads(text) if text else {}
        except ValueError:
            data = {}
        known = (
            {k: v for k, v in data.items() if k in cls.__dataclass_fields__} if isinstance(data, dict) else {}
        )
        return cls(**known)

    def dump(self) -> str:
        """The cursor as JSON."""
        return json.dumps(asdict(self), sort_keys=True)


class ActivityScan:
    """Keeps `campaign_activity` current for one instance; `run_once` returns seconds until it wants to run again."""

    def __init__(
        self,
        client: MarketoClient,
        db: Database,
        settings: TriggerHealthSettings,
        accept: Callable[[list[Notification]], Awaitable[object]],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client, self.db, self.settings, self.accept, self.clock = client, db, settings, accept, clock
        self.every = settings.scan_minutes * 60.0
        self.deeper = DeeperScan(self)

    @property
    def munchkin(self) -> str:
        """The instance's munchkin id."""
        return self.client.munchkin_id

    async def cursor(self) -> ScanCursor:
        """Where the scan stands, as stored."""
        state = await self.db.read(poller_state, self.munchkin, POLLER)
        return ScanCursor.load(state["cursor"] if state else None)

    async def run_once(self) -> float:
        """One step of the scan (pages, or one move of the bulk job); errors are recorded, never raised."""
        if self.settings.activities == "off":
            return 86_400.0
        now = self.clock()
        cursor = await self.cursor()
        if self.settings.activities == "bulk":
            cursor.mode = "bulk"
        elif self.settings.activities == "rest":
            cursor.mode = "rest"
        covered, spent = cursor.covered_from, self.client.calls_for(POLLER)
        try:
            run_slice = self._allowance(now)
            if cursor.mode == "bulk":
                wait = await self._bulk_step(cursor, now)
            else:
                wait = await self._rest_step(cursor, now)
            if cursor.covered_from != covered:  # the first pass is done: idle lower bounds exist now
                await announce_at_risk(self.db, self.accept, self.munchkin, now, self.settings.at_risk_days)
            spare = run_slice - (self.client.calls_for(POLLER) - spent)
            return min(wait, await self.deeper.step(cursor, now, spare))
        except MarketoError as exc:
            log.warning("activity scan %s: %s", self.munchkin, exc)
            await self.db.call(
                record_poll_error, self.munchkin, POLLER, now, str(exc), self.client.calls_for(POLLER)
            )
            return self.every

    async def save(self, cursor: ScanCursor, now: datetime, latest: dict[int, str] | None = None) -> None:
        """Stores the cursor, with the activity it covers (newest per campaign) in the same transaction."""
        calls = self.client.calls_for(POLLER)
        if latest:
            await self.db.call(apply_activity, self.munchkin, latest, POLLER, cursor.dump(), now, calls)
        else:
            await self.db.call(save_cursor, self.munchkin, POLLER, cursor.dump(), now, calls)

    def _allowance(self, now: datetime) -> int:
        """Calls this run may spend: what is left of today's share, spread over the runs left until the reset."""
        left = self.client.calls_left(POLLER)
        runs_left = max(1, math.ceil((next_central_midnight(now) - now).total_seconds() / self.every))
        return min(left, max(1, left // runs_left)) if left else 0

    def _share_per_day(self) -> int:
        return self.client.caps.get(POLLER, self.client.budget)

    # -- REST ----------------------------------------------------------------------------------------------

    async def _rest_step(self, cursor: ScanCursor, now: datetime) -> float:
        allowance = self._allowance(now)
        if allowance <= 0:
            raise MarketoError(
                "budget", f"the activities share of today's API budget for {self.munchkin} is spent"
            )
        start = cursor.through or iso_utc(now - timedelta(hours=self.settings.lookback_hours))
        cursor.origin = cursor.origin or start  # an older cursor without one: coverage counts from here
        if cursor.token is None:
            since = parse_time(start) or now
            cursor.token = await self.client.paging_token(since)
            allowance -= 1
        seen, caught_up = 0, False
        types = self.settings.activity_type_ids
        while allowance > 0 and not caught_up:
            try:
                data = await self.client.activities(cursor.token, types, PAGE_SIZE)
            except MarketoError as exc:
                if (
                    exc.code not in RETRY_SAME_TOKEN
                ):  # e.g. an expired paging token: derive a new one next run
                    cursor.token = None
                    await self.save(cursor, now)
                raise
            allowance -= 1
            result = data.get("result")
            pairs, newest = page_pairs(result if isinstance(result, list) else [])
            seen += len(result) if isinstance(result, list) else 0
            if newest is not None:
                cursor.through = max(cursor.through or newest, newest)
            cursor.token = str(data.get("nextPageToken") or cursor.token)
            caught_up = not data.get("moreResult")
            if caught_up and cursor.through is None:
                cursor.through = iso_utc(now)
            if caught_up and cursor.covered_from is None:
                self._first_pass_done(cursor, start, seen, now)
            await self.save(cursor, now, newest_per_campaign(pairs))
        if not caught_up:
            self._maybe_switch_to_bulk(cursor, start, seen)
            await self.save(cursor, now)
        return self.every

    @staticmethod
    def _first_pass_done(cursor: ScanCursor, start: str | None, seen: int, now: datetime) -> None:
        """Everything since `origin` is applied: coverage begins there; the rate measured sizes a deeper scan."""
        cursor.covered_from = cursor.origin
        t0 = parse_time(start)
        if t0 is not None:
            cursor.rate_per_day = seen * 86_400.0 / max((now - t0).total_seconds(), 3_600.0)

    def _maybe_switch_to_bulk(self, cursor: ScanCursor, start: str | None, seen: int) -> None:
        """When REST falls behind, estimate the daily volume from what it covered; too much → bulk export."""
        t0, t1 = parse_time(start), parse_time(cursor.through)
        if t0 is None or t1 is None or seen == 0:
            return
        span = max((t1 - t0).total_seconds(), 1.0)
        cursor.rate_per_day = seen * 86_400.0 / span
        pages = cursor.rate_per_day / PAGE_SIZE
        if self.settings.activities == "auto" and pages > self._share_per_day():
            log.info(
                "activity scan %s: ~%d activities/day need ~%d calls/day over REST, more than the %d-call share; "
                "switching to a daily Bulk Activity Extract",
                self.munchkin,
                cursor.rate_per_day,
                pages,
                self._share_per_day(),
            )
            cursor.mode, cursor.token = "bulk", None

    # -- bulk ----------------------------------------------------------------------------------------------

    async def _bulk_step(self, cursor: ScanCursor, now: datetime) -> float:
        if cursor.export_id is None:
            start = parse_time(cursor.through) or now - timedelta(hours=self.settings.lookback_hours)
            due = start + timedelta(hours=self.settings.bulk_every_hours)
            if now < due:
                await self.save(cursor, now)
                return max(60.0, min(self.every, (due - now).total_seconds()))
            end = min(now, start + timedelta(days=bulk.MAX_WINDOW_DAYS))
            cursor.origin = cursor.origin or iso_utc(start)
            cursor.export_id = await bulk.create_export(
                self.client, start, end, self.settings.activity_type_ids
            )
            cursor.export_start, cursor.export_end, cursor.queued = iso_utc(start), iso_utc(end), False
            await self.save(cursor, now)  # a crash now leaves a created job we resume, not an orphan
        if not cursor.queued:
            await bulk.enqueue_export(self.client, cursor.export_id)
            cursor.queued = True
            await self.save(cursor, now)
            return STATUS_WAIT
        done = await self.finished_export(cursor, now, cursor.export_id, "activity export", _forget_export)
        if done is None:
            return STATUS_WAIT
        status, latest = done
        self._finish_export(cursor, status.records)
        await self.save(cursor, now, latest)
        await announce_at_risk(self.db, self.accept, self.munchkin, now, self.settings.at_risk_days)
        return self.every

    async def finished_export(
        self,
        cursor: ScanCursor,
        now: datetime,
        export_id: str,
        what: str,
        forget: Callable[[ScanCursor], None],
    ) -> tuple[bulk.ExportStatus, dict[int, str]] | None:
        """A completed export's status and newest activity per campaign; None while Marketo still runs it.

        A failed or cancelled job is forgotten (`forget`) and saved before the error, so the next run makes a new one.
        """
        status = await bulk.export_status(self.client, export_id)
        if status.status in ("Failed", "Cancelled"):
            forget(cursor)
            await self.save(cursor, now)
            raise MarketoError(
                "bulk", f"{self.munchkin} {what} {export_id} {status.status.lower()}; retrying"
            )
        if status.status != "Completed":
            return None
        content = await bulk.export_file(self.client, status)
        return status, newest_per_campaign(bulk.iter_campaign_activity(content))

    def _finish_export(self, cursor: ScanCursor, records: int | None) -> None:
        t0, t1 = parse_time(cursor.export_start), parse_time(cursor.export_end)
        if records is not None and t0 is not None and t1 is not None:
            cursor.rate_per_day = records * 86_400.0 / max((t1 - t0).total_seconds(), 1.0)
        cursor.through = cursor.export_end
        cursor.covered_from = cursor.covered_from or cursor.origin or cursor.export_start
        cursor.export_id = cursor.export_start = cursor.export_end = None
        cursor.queued = False
        rate = cursor.rate_per_day
        fits = rate is not None and rate / PAGE_SIZE <= SWITCH_BACK * self._share_per_day()
        if self.settings.activities == "auto" and fits:
            cursor.mode, cursor.token = "rest", None


def _forget_export(cursor: ScanCursor) -> None:
    cursor.export_id, cursor.queued = None, False
