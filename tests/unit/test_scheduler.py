"""The poll scheduler: runs each poll repeatedly at the cadence it asks for, never overlapping, survives errors."""

from __future__ import annotations

import asyncio

from notifbot.scheduler import Pollers


async def test_polls_repeat_at_their_own_cadence_without_overlap() -> None:
    pollers = Pollers(min_delay=0.01)
    running = 0
    peak = 0
    runs = {"slow": 0, "broken": 0}

    async def slow() -> float:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        runs["slow"] += 1
        await asyncio.sleep(0.05)
        running -= 1
        return 0.01

    async def broken() -> float:
        runs["broken"] += 1
        raise RuntimeError("Marketo said no")

    pollers.add("slow", slow, first_delay=0.01)
    pollers.add("broken", broken, first_delay=0.01)
    pollers.start()
    try:
        await asyncio.sleep(0.6)
    finally:
        pollers.stop()
    assert runs["slow"] >= 3 and peak == 1
    assert runs["broken"] == 1  # an error backs the poll off (300 s) instead of stopping the scheduler
    assert pollers.names == ["broken", "slow"]
