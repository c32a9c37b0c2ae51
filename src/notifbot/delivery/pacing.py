"""Per-channel pacing: at most one send per interval, measured from when the previous send finished."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class Pacer:
    """Spaces sends to one channel; a 429's Retry-After pushes the next slot out."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self._clock = clock
        self._next = 0.0

    def delay(self) -> float:
        """Seconds until the next send may start."""
        return max(0.0, self._next - self._clock())

    async def wait(self) -> None:
        """Sleeps until the next send may start."""
        while (d := self.delay()) > 0:
            await asyncio.sleep(d)

    def sent(self) -> None:
        """Marks a send as finished now."""
        self._next = max(self._next, self._clock() + self.interval)

    def block(self, seconds: float) -> None:
        """Holds the channel for `seconds` (the server asked us to wait)."""
        self._next = max(self._next, self._clock() + seconds)
