"""Retry policy: exponential backoff with jitter, bounded in delay and in attempts."""

from __future__ import annotations

import random
from collections.abc import Callable


def backoff(attempts: int, *, base: float, cap: float, rand: Callable[[], float] = random.random) -> float:
    """Delay before the next try after `attempts` failures: base·2ⁿ capped, with ±50 % jitter."""
    raw = min(cap, base * (2 ** max(0, attempts - 1)))
    return float(raw * (0.5 + rand()))
