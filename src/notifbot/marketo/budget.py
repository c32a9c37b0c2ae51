"""Pacing (rolling window + concurrency) and the daily call budget of one Marketo instance."""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping
from datetime import date, datetime

from notifbot.central_time import central_date

Sleeper = Callable[[float], Awaitable[None]]


class Pacer:
    """At most `max_calls` starts per rolling `window` seconds; waits use the injected clock and sleeper."""

    def __init__(self, max_calls: int, window: float, monotonic: Callable[[], float], sleep: Sleeper) -> None:
        self.max_calls, self.window = max_calls, window
        self._monotonic, self._sleep = monotonic, sleep
        self._starts: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Waits until one more call fits in the window, then records its start."""
        async with self._lock:
            while True:
                now = self._monotonic()
                while self._starts and self._starts[0] <= now - self.window:
                    self._starts.popleft()
                if len(self._starts) < self.max_calls:
                    self._starts.append(now)
                    return
                await self._sleep(max(self._starts[0] + self.window - now, 0.001))


class DailyBudget:
    """Counts REST calls per US-Central day, in total and per feature, and refuses a call over either limit.

    `caps` bounds a feature's share (e.g. trigger health may spend at most 40 % of the budget) so a slow-moving
    feature can never starve the quota watch; features without a cap share whatever is left of `limit`.
    """

    def __init__(
        self, limit: int, now: Callable[[], datetime], caps: Mapping[str, int] | None = None
    ) -> None:
        self.limit = limit
        self.caps: dict[str, int] = dict(caps or {})
        self._now = now
        self._day = central_date(now())
        self._by: Counter[str] = Counter()

    def _roll(self) -> None:
        today = central_date(self._now())
        if today != self._day:
            self._day, self._by = today, Counter()

    @property
    def used(self) -> int:
        """Calls counted so far today (US Central), all features together."""
        self._roll()
        return sum(self._by.values())

    def used_by(self, feature: str) -> int:
        """Calls `feature` made so far today."""
        self._roll()
        return self._by[feature]

    def left_for(self, feature: str) -> int:
        """Calls `feature` should plan on today: its cap's rest, or for an uncapped feature what the capped ones
        have not reserved (planning only: `try_spend` lets an uncapped feature use the whole budget)."""
        self._roll()
        left = self.limit - sum(self._by.values())
        if feature in self.caps:
            return max(0, min(left, self.caps[feature] - self._by[feature]))
        reserved = sum(max(0, cap - self._by[f]) for f, cap in self.caps.items())
        return max(0, left - reserved)

    def restore(self, day: date, used: Mapping[str, int]) -> None:
        """Carries over the calls an earlier run made today, per feature (so a restart never resets the budget)."""
        self._roll()
        if day == self._day:
            for feature, n in used.items():
                self._by[feature] = max(self._by[feature], n)

    def try_spend(self, feature: str = "other") -> str | None:
        """Counts one call for `feature` and returns None, or returns why not (counting nothing)."""
        self._roll()
        if sum(self._by.values()) >= self.limit:
            return f"notifbot's daily API budget ({self.limit} calls) is used up"
        if feature in self.caps and self._by[feature] >= self.caps[feature]:
            return (
                f"the {feature} share of notifbot's daily API budget ({self.caps[feature]} calls) is used up"
            )
        self._by[feature] += 1
        return None
