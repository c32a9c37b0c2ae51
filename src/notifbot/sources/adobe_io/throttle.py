"""Log lines unauthenticated requests can trigger: at most one a minute at their level, attacker text shortened."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from notifbot.logs import OncePer


def loggable(text: str, limit: int = 200) -> str:
    """`text` cut to `limit` characters with control and non-ASCII characters escaped: one safe log line."""
    cut = text[:limit].encode("unicode_escape").decode("ascii")
    return cut + (f"... ({len(text)} characters)" if len(text) > limit else "")


class LogThrottle:
    """Logs the first record of each `interval` at the level asked for and the rest at DEBUG, counting them.

    Anyone can make the bot log by sending a request; this keeps such lines from flooding the log while the first
    one, and how many followed, still reach the operator.
    """

    def __init__(
        self, logger: logging.Logger, interval: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._logger = logger
        self._gate = OncePer(interval, clock)
        self._quieted = 0

    def log(self, level: int, msg: str, *args: object, **kwargs: Any) -> None:
        """Logs at `level` if the interval has passed since the last such record, else at DEBUG."""
        if not self._gate.due():
            self._quieted += 1
            self._logger.debug(msg, *args, **kwargs)
            return
        if self._quieted:
            msg += " (and %d more like it since the last one, logged at DEBUG)"
            args = (*args, self._quieted)
            self._quieted = 0
        self._logger.log(level, msg, *args, **kwargs)
