"""Pacing (rolling window + concurrency) and the daily call budget of one Marketo instance."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
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
    """Counts REST calls per US-Central day and refuses the one that would exceed `limit`."""

    def __init__(self, limit: int, now: Callable[[], datetime]) -> None:
        self.limit = limit
        self._now = now
        self._day = central_date(now())
        self._used = 0

    def _roll(self) -> None:
        today = central_date(self._now())
        if today != self._day:
            self._day, self._used = today, 0

    @property
    def used(self) -> int:
        """Calls counted so far today (US Central)."""
        self._roll()
        return self._used

    def restore(self, day: date, used: int) -> None:
        """Carries over the calls already made today by an earlier run (so a restart never resets the budget)."""
        self._roll()
        if day == self._day:
            self._used = max(self._used, used)

    def try_spend(self) -> bool:
        """Counts one call and returns True, or returns False (counting nothing) when the budget is spent."""
        self._roll()
        if self._used >= self.limit:
            return False
        self._used += 1
        return True
