"""Quota watch: samples Marketo's daily API usage, stores it, alerts once per observation (its highest new threshold)
per US Central day, and resolves the day's alert after the reset."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from notifbot.central_time import central_date, last_central_midnight, next_central_midnight
from notifbot.errors import MarketoError
from notifbot.kinds.quota_text import LASTS, REFUSED, RUNS_OUT, USED_UP
from notifbot.marketo.client import MarketoClient
from notifbot.model import Notification
from notifbot.sources.events import parse_event
from notifbot.store.events import has_key_prefix
from notifbot.store.marketo_state import (
    day_samples,
    insert_quota_sample,
    record_poll_error,
    record_poll_success,
)
from notifbot.store.runner import Database

log = logging.getLogger(__name__)

POLLER = "quota"
TOP_USERS = 5
FORECAST_WINDOW = 2 * 3600.0  # burn rate from the samples of the last two hours (else the whole day so far)
FORECAST_MIN_SPAN = 600.0  # no forecast from samples closer together than ten minutes


class QuotaInstance(Protocol):
    """What QuotaWatch needs of an instance's configuration."""

    @property
    def munchkin_id(self) -> str: ...

    @property
    def daily_quota(self) -> int: ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _today(envelope: dict[str, Any]) -> dict[str, Any]:
    result = envelope.get("result")
    first = result[0] if isinstance(result, list) and result else {}
    return first if isinstance(first, dict) else {}


def _users(day: dict[str, Any]) -> list[dict[str, Any]]:
    raw = day.get("users")
    users = [u for u in raw if isinstance(u, dict)] if isinstance(raw, list) else []
    out = [{"userId": str(u.get("userId") or "unknown"), "count": _int(u.get("count"))} for u in users]
    return sorted(out, key=lambda u: (-u["count"], u["userId"]))


def _error_counts(day: dict[str, Any]) -> dict[str, int]:
    raw = day.get("errors")
    out: dict[str, int] = {}
    for e in raw if isinstance(raw, list) else []:
        if isinstance(e, dict) and (count := _int(e.get("count"))) > 0:
            code = str(e.get("errorCode"))
            out[code] = out.get(code, 0) + count
    return out


def forecast(
    samples: Sequence[tuple[float, int]], now: datetime, used: int, quota: int
) -> dict[str, Any] | None:
    """The burn-rate outlook from today's (sampled_at, used) samples as fields (`outlook`, `runs_out_at`), or None
    when there is no rate to go on; the kind words it in each reader's language (kinds/quota_text.py)."""
    reset = next_central_midnight(now)
    if used >= quota:
        return {"outlook": USED_UP}
    t_now = now.timestamp()
    earlier = [s for s in samples if s[0] <= t_now - FORECAST_MIN_SPAN]
    if not earlier:
        return None
    recent = [s for s in earlier if s[0] >= t_now - FORECAST_WINDOW]
    t0, used0 = recent[0] if recent else earlier[-1]
    rate = (used - used0) / (t_now - t0)
    if rate <= 0:
        return None
    runs_out = now + timedelta(seconds=(quota - used) / rate)
    if runs_out >= reset:
        return {"outlook": LASTS}
    return {"outlook": RUNS_OUT, "runs_out_at": runs_out.isoformat()}


class QuotaWatch:
    """Polls `stats/usage.json` (and, less often, `stats/errors.json`) for one instance.

    Cadence (`next_interval`): every 30 min below 50 % of the quota, 10 min from 50 %, 5 min from 80 %, and back to
    30 min once the quota is used up (every threshold has fired; Marketo refuses calls until the reset). Errors
    are fetched at most every `errors_every` seconds so the watch costs at most ~1.2 calls per poll.
    """

    def __init__(
        self,
        client: MarketoClient,
        instance: QuotaInstance,
        db: Database,
        accept: Callable[[list[Notification]], Awaitable[object]],
        thresholds: Sequence[float] = (80, 95, 100),
        clock: Callable[[], datetime] = _utcnow,
        errors_every: float = 1800.0,
    ) -> None:
        self.client, self.instance, self.db, self.accept = client, instance, db, accept
        self.thresholds = sorted(set(thresholds))
        self.clock = clock
        self.errors_every = errors_every
        self.last_percent: float | None = None
        self._errors: dict[str, int] = {}
        self._errors_at: float | None = None
        self._errors_day: str | None = None
        self._emitted: set[str] = set()
        self._reset_checked: set[str] = (
            set()
        )  # Central days whose reset was announced (or had nothing to resolve)

    @property
    def munchkin(self) -> str:
        """The instance's munchkin id."""
        return self.instance.munchkin_id

    def next_interval(self, percent: float) -> float:
        """Seconds until the next poll at `percent` of the daily quota, stretched to last the budget left today."""
        if percent >= 100:
            base = 1800.0
        elif percent >= 80:
            base = 300.0
        elif percent >= 50:
            base = 600.0
        else:
            base = 1800.0
        now = self.clock()
        to_reset = (next_central_midnight(now) - now).total_seconds()
        if self.client.paused_until is not None and self.client.paused_until > now:
            return (
                self.client.paused_until - now
            ).total_seconds() + 60.0  # 607: nothing to learn until the reset
        left = self.client.calls_left(POLLER)
        if left <= 0:
            return to_reset + 60.0
        per_poll = 1.0 + min(1.0, base / self.errors_every)
        return max(base, min(to_reset + 60.0, to_reset * per_poll / left))

    async def _fetch_errors(self, now: datetime, day: str) -> str | None:
        """Refreshes the cached error counts when due; returns a failure message instead of raising."""
        due = self._errors_at is None or self._errors_day != day
        if not due and self._errors_at is not None and now.timestamp() - self._errors_at < self.errors_every:
            return None
        try:
            self._errors = _error_counts(_today(await self.client.errors()))
        except MarketoError as exc:
            return str(exc)
        self._errors_at, self._errors_day = now.timestamp(), day
        return None

    async def poll(self) -> float:
        """One scheduled poll; returns the seconds until the next (see `next_interval`)."""
        await self.run_once()
        return self.next_interval(self.last_percent or 0.0)

    async def run_once(self) -> None:
        """One poll: sample usage, store it, announce newly crossed thresholds; Marketo errors are recorded."""
        now = self.clock()
        day = central_date(now).isoformat()
        await self._resolve_yesterday(now)
        quota = self.instance.daily_quota
        try:
            usage = _today(await self.client.usage())
        except MarketoError as exc:
            log.warning("quota watch %s: %s", self.munchkin, exc)
            await self.db.call(
                record_poll_error, self.munchkin, POLLER, now, str(exc), self.client.calls_for(POLLER)
            )
            if exc.code == "607":  # Marketo itself says the quota is gone: that is the 100 % alert
                self.last_percent = 100.0
                await self._announce(now, day, quota, quota, [], reached=True)
            return
        used, users = _int(usage.get("total")), _users(usage)
        problem = await self._fetch_errors(now, day)
        errors = self._errors if self._errors_day == day else {}
        earlier = await self.db.call(day_samples, self.munchkin, day)
        await self.db.call(
            insert_quota_sample, self.munchkin, now.timestamp(), day, used, quota, users, errors
        )
        percent = round(100.0 * used / quota, 1)
        self.last_percent = percent
        if problem is None:
            await self.db.call(record_poll_success, self.munchkin, POLLER, now, self.client.calls_for(POLLER))
        else:
            log.warning("quota watch %s: errors.json: %s", self.munchkin, problem)
            await self.db.call(
                record_poll_error, self.munchkin, POLLER, now, problem, self.client.calls_for(POLLER)
            )
        await self._announce(now, day, used, quota, users, earlier=earlier)

    async def _resolve_yesterday(self, now: datetime) -> None:
        """After the reset at 00:00 CT, yesterday's quota alert (if there was one) is marked resolved in place."""
        yesterday = (central_date(now) - timedelta(days=1)).isoformat()
        if yesterday in self._reset_checked:
            return
        prefix = f"quota-{self.munchkin}-{yesterday}-"
        if not await self.db.call(has_key_prefix, prefix):
            self._reset_checked.add(yesterday)
            return
        reset = last_central_midnight(now)
        event = {
            "kind": "web_services",
            "id": prefix + "reset",
            "instance": self.munchkin,
            "occurred_at": now,
            "severity": "info",
            "status": "resolved",
            "fields": {"resets_at": reset.isoformat()},
        }
        await self.accept([parse_event(event, now=now, source="marketo")])
        self._reset_checked.add(yesterday)

    def _key(self, day: str, threshold: float) -> str:
        """The notification id of `threshold` on the Central `day`: stable, so a restart dedupes in the store."""
        return f"quota-{self.munchkin}-{day}-{threshold:g}"

    async def _announce(
        self,
        now: datetime,
        day: str,
        used: int,
        quota: int,
        users: list[dict[str, Any]],
        earlier: Sequence[tuple[float, int]] = (),
        reached: bool = False,
    ) -> None:
        """One notification for the highest threshold crossed and not yet announced today (one observation, one
        alert; ids dedupe across restarts); the day's alerts are one message, edited as usage rises."""
        crossed = [t for t in self.thresholds if 100.0 * used >= t * quota]
        fresh_thresholds = [t for t in crossed if self._key(day, t) not in self._emitted]
        if not fresh_thresholds:
            return
        fresh_thresholds = fresh_thresholds[-1:]  # the highest: the lower ones are implied
        percent = round(100.0 * used / quota, 1)
        if reached:
            outlook: dict[str, Any] | None = {"outlook": REFUSED}
        else:
            outlook = forecast(earlier, now, used, quota)
        fresh = [
            self._notification(t, now, day, used, quota, percent, users, outlook) for t in fresh_thresholds
        ]
        await self.accept(fresh)
        self._emitted.update(self._key(day, t) for t in crossed)

    def _notification(
        self,
        threshold: float,
        now: datetime,
        day: str,
        used: int,
        quota: int,
        percent: float,
        users: list[dict[str, Any]],
        outlook: dict[str, Any] | None,
    ) -> Notification:
        """The alert of `threshold`: numbers and times only, no summary (the kind words it: kinds/quota_text.py)."""
        resets_at = next_central_midnight(now)
        fields: dict[str, Any] = {
            "used": used,
            "quota": quota,
            "percent": percent,
            "threshold": threshold,
            "resets_at": resets_at.isoformat(),
            "top_users": users[:TOP_USERS],
        }
        fields.update(outlook or {})
        event = {
            "kind": "web_services",
            "id": self._key(day, threshold),
            "instance": self.munchkin,
            "occurred_at": now,
            "severity": "critical" if threshold >= 100 else "warning",
            "fields": fields,
        }
        return parse_event(event, now=now, source="marketo")
